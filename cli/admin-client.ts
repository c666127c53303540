/**
 * A client for the admin API: a bearer key for the local stack, SigV4 with the standard AWS
 * credential chain for the HTTP API on AWS, where IAM authorizes every route.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { adminBasePath, type AdminRoute } from '../lib/admin/admin-api';

export type AdminAuth = { kind: 'bearer'; adminKey: string } | { kind: 'sigv4'; region: string };

/** An error the admin API answered with, or the reason it could not be reached. */
export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The endpoint or the environment does not say how to reach or authenticate to the admin API. */
export class AdminSetupError extends Error {}

/**
 * How to authenticate to an endpoint: SigV4 for API Gateway (`*.amazonaws.com`, or when asked), with
 * the region taken from its host name; locally the bearer key from `PIGEONHOLE_ADMIN_KEY`.
 */
export function adminAuthFor(endpoint: string, options: { sigv4?: boolean; region?: string } = {}): AdminAuth {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    throw new AdminSetupError(`--endpoint must be a URL, not '${endpoint}'`);
  }
  if (options.sigv4 || host.endsWith('.amazonaws.com')) {
    const resolved = options.region ?? /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1] ?? process.env.AWS_REGION;
    if (!resolved) throw new AdminSetupError('give --region (or set AWS_REGION) to sign requests for this endpoint');
    return { kind: 'sigv4', region: resolved };
  }
  const adminKey = process.env.PIGEONHOLE_ADMIN_KEY;
  if (!adminKey) throw new AdminSetupError('set PIGEONHOLE_ADMIN_KEY to the admin key (npm start prints it)');
  return { kind: 'bearer', adminKey };
}

export class AdminClient {
  private readonly signer: SignatureV4 | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly auth: AdminAuth,
  ) {
    this.signer =
      auth.kind === 'sigv4'
        ? new SignatureV4({ service: 'execute-api', region: auth.region, credentials: fromNodeProviderChain(), sha256: Sha256 })
        : undefined;
  }

  async call<T>(route: AdminRoute, options: { id?: string; body?: unknown; query?: Record<string, string> } = {}): Promise<T> {
    const path = route.path.replace(adminBasePath, '').replace('{id}', encodeURIComponent(options.id ?? ''));
    const query = new URLSearchParams(options.query ?? {}).toString();
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = await this.send(route.method, `${path}${query ? `?${query}` : ''}`, body);
    const text = await response.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string }; message?: string } | undefined) ?? {};
      const message = error.error?.message ?? error.message ?? response.statusText;
      throw new AdminApiError(`${message} (HTTP ${response.status})`, response.status, error.error?.code);
    }
    return json as T;
  }

  /**
   * One request to the API, authorized (bearer key or SigV4); `pathAndQuery` is below the endpoint's
   * base, e.g. `/config` or `/groups?cursor=…`. The console proxy forwards through this too.
   */
  async send(method: string, pathAndQuery: string, body: string | undefined): Promise<Response> {
    const url = new URL(`${this.endpoint.replace(/\/$/, '')}${pathAndQuery}`);
    const headers = await this.headers(method, url, body);
    try {
      return await fetch(url, { method, headers, ...(body !== undefined && { body }), redirect: 'manual' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new AdminApiError(`cannot reach ${this.endpoint} (${cause})${this.auth.kind === 'bearer' ? '; is `npm start` running?' : ''}`);
    }
  }

  private async headers(method: string, url: URL, body: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', host: url.host };
    if (this.auth.kind === 'bearer') return { ...headers, authorization: `Bearer ${this.auth.adminKey}` };
    if (!this.signer) throw new Error('no SigV4 signer');
    const signed = await this.signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(body !== undefined && { body }),
    });
    return signed.headers;
  }
}
