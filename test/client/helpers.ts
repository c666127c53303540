/** What the client tests share: clients on `ws`, awaiting their events, and dropping connections from the gateway's side. */
import WebSocket from 'ws';
import { PigeonholeClient, type ClientEvents, type ClientOptions } from 'pigeonhole/client';
import type { Message } from '../../lib/protocol';
import type { LocalStack } from '../../local/stack';

/** A client on `ws` (Node 20 has no global WebSocket), with quick reconnects for tests. */
export function clientFor(url: string, token: ClientOptions['token'], options: Partial<ClientOptions> = {}): PigeonholeClient {
  return new PigeonholeClient({ url, token, WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 300 }, ...options });
}

/** The next event of this kind that matches. */
export function nextEvent<K extends keyof ClientEvents>(
  client: PigeonholeClient,
  event: K,
  match: (value: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** Every message handed to the app, in order; `until(n)` resolves once there are n. */
export function collect(client: PigeonholeClient, listener?: (message: Message) => unknown) {
  const handed: Message[] = [];
  const waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  client.on('message', async (message) => {
    await listener?.(message);
    handed.push(message);
    for (const waiter of waiters.filter((w) => w.done())) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  return {
    handed,
    /** Resolves once `count` messages were handed, or once `done` says so. */
    until(count: number | ((handed: readonly Message[]) => boolean), timeoutMs = 30_000): Promise<Message[]> {
      const done = typeof count === 'number' ? () => handed.length >= count : () => count(handed);
      if (done()) return Promise.resolve(handed);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`still waiting after ${timeoutMs} ms, with ${handed.length} messages`)), timeoutMs);
        waiters.push({
          done,
          resolve: () => {
            clearTimeout(timer);
            resolve(handed);
          },
        });
      });
    },
  };
}

/** The gateway's open connections per user, as it reports them. */
export function watchConnections(stack: LocalStack) {
  const open = new Map<string, Set<string>>();
  let opened = 0;
  const openedBy = new Map<string, number>();
  stack.gateway.events.on('connected', ({ connectionId, principalId = '' }) => {
    opened += 1;
    openedBy.set(principalId, (openedBy.get(principalId) ?? 0) + 1);
    (open.get(principalId) ?? open.set(principalId, new Set()).get(principalId))?.add(connectionId);
  });
  stack.gateway.events.on('disconnected', ({ connectionId, principalId = '' }) => open.get(principalId)?.delete(connectionId));
  return {
    get opened() {
      return opened;
    },
    openedBy: (userId: string) => openedBy.get(userId) ?? 0,
    /** Closes the user's connections as the service does, with `@connections` DELETE. */
    async drop(userId: string): Promise<number> {
      const ids = [...(open.get(userId) ?? [])];
      for (const id of ids) {
        const response = await fetch(`${stack.gateway.callbackUrl}/@connections/${encodeURIComponent(id)}`, { method: 'DELETE' });
        if (response.status !== 204) throw new Error(`DELETE @connections/${id} answered ${response.status}`);
      }
      return ids.length;
    },
  };
}
