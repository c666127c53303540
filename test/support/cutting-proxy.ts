/**
 * A TCP proxy on loopback that cuts every connection through it after a random time, without a close
 * frame, as a phone losing its network does: the client sees its socket drop, the gateway runs
 * `$disconnect`, and whatever was in flight either way is lost.
 */
import { createServer, connect as connectTcp, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CuttingProxyOptions {
  /** Each connection lives a random time in [minMs, maxMs] before it is cut. */
  minMs: number;
  maxMs: number;
  /** For a reproducible run; Math.random by default. */
  random?: () => number;
}

export interface CuttingProxy {
  /** `ws://127.0.0.1:<port>`: where clients connect instead of the gateway. */
  url: string;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Lets every connection live from now on (connections open now included). */
  stopCutting(): void;
  stop(): Promise<void>;
}

export async function startCuttingProxy(targetUrl: string, options: CuttingProxyOptions): Promise<CuttingProxy> {
  const target = new URL(targetUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) throw new Error(`the proxy only forwards to loopback, not ${target.hostname}`);
  const random = options.random ?? Math.random;
  const open = new Map<Socket, { upstream: Socket; timer: NodeJS.Timeout | undefined }>();
  let cutting = true;
  let cuts = 0;

  const server = createServer((downstream) => {
    const upstream = connectTcp(Number(target.port), target.hostname === '[::1]' ? '::1' : target.hostname);
    const destroyBoth = () => {
      downstream.destroy();
      upstream.destroy();
    };
    const entry = {
      upstream,
      timer: cutting
        ? setTimeout(() => {
            cuts += 1;
            destroyBoth();
          }, options.minMs + random() * (options.maxMs - options.minMs))
        : undefined,
    };
    open.set(downstream, entry);
    downstream.on('error', destroyBoth).on('close', () => {
      clearTimeout(entry.timer);
      open.delete(downstream);
      upstream.destroy();
    });
    upstream.on('error', destroyBoth).on('close', () => downstream.destroy());
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    stopCutting() {
      cutting = false;
      for (const entry of open.values()) clearTimeout(entry.timer);
    },
    async stop() {
      cutting = false;
      for (const [downstream, entry] of open) {
        clearTimeout(entry.timer);
        downstream.destroy();
        entry.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
