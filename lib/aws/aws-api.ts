/**
 * The functions' calls to AWS besides DynamoDB's — `@connections`, Lambda's Invoke, SQS and
 * EventBridge — as signed `fetch` requests. Each of them is one HTTP request, and an SDK client for
 * each would bring its service's whole model (the Lambda client alone is some 70 KB of a bundle), so
 * these use the SDK's parts the DynamoDB client already brings: its SigV4 signer, its SHA-256 and
 * its standard retry strategy, with its error classification. What the local stack adds to SDK
 * clients (client-plugins.ts) it adds here too, under the SDK's names for the client and command.
 */
import { Sha256 } from '@smithy/core/checksum';
import { isServerError, isThrottlingError, isTransientError, Retry, StandardRetryStrategy, DEFAULT_MAX_ATTEMPTS } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RetryErrorType } from '@smithy/types';
import { callHooks, type AwsCall } from './client-plugins';

/** What AWS answered, or what failed on the way: named and shaped as the SDK's errors are, so that they classify alike. */
export class AwsError extends Error {
  readonly $metadata: { httpStatusCode?: number };
  readonly $fault: 'client' | 'server';

  constructor(name: string, message: string, status?: number, readonly code?: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    this.$fault = status !== undefined && status < 500 ? 'client' : 'server';
  }
}

export interface AwsRequest {
  /** The SDK's name for the command, `PostToConnectionCommand`, and its input: what plugins see. */
  readonly command: string;
  readonly input: Record<string, unknown>;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Below the endpoint's own path. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

/** What answered 2xx: its status and body. */
export interface AwsResponse {
  readonly status: number;
  readonly body: string;
}

/** The SDK's clients, from 3.1162 on, try a call four times by default. */
const maxAttempts = Retry.v2026 ? 4 : DEFAULT_MAX_ATTEMPTS;

/** The service's regional endpoint: `https://sqs.eu-west-1.amazonaws.com`, or `amazonaws.com.cn` in China's regions. */
function regionalEndpoint(signingName: string, region: string): string {
  return `https://${signingName}.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

export class AwsApi {
  private readonly signer: SignatureV4;
  private readonly retries = new StandardRetryStrategy(maxAttempts);
  /** Where it is served, with a path for `@connections`. */
  private readonly endpoint: URL;

  /**
   * `client` is the SDK's name for the client (`SQSClient`); `signingName` the service's name in
   * signatures (`sqs`), and in its regional endpoint, used unless `endpoint` is given.
   */
  constructor(
    readonly client: string,
    signingName: string,
    endpoint?: string,
    region: string = process.env.AWS_REGION ?? '',
  ) {
    if (!region) throw new Error('AWS_REGION is not set');
    this.endpoint = new URL(endpoint ?? regionalEndpoint(signingName, region));
    this.signer = new SignatureV4({ service: signingName, region, sha256: Sha256, credentials: environmentCredentials });
  }

  /** One call, retried as the SDK retries (throttles, timeouts, 5xx); throws an AwsError for anything but 2xx. */
  async send(request: AwsRequest): Promise<AwsResponse> {
    const call: AwsCall = { client: this.client, command: request.command, input: request.input };
    const hooks = callHooks();
    return hooks.aroundCall(call, async () => {
      let token = await this.retries.acquireInitialRetryToken(this.client);
      for (;;) {
        try {
          const response = await hooks.aroundAttempt(call, () => this.attempt(request));
          this.retries.recordSuccess(token);
          return response;
        } catch (error) {
          try {
            token = await this.retries.refreshRetryTokenForRetry(token, { errorType: retryErrorType(error as SdkError) });
          } catch {
            throw error;
          }
        }
      }
    }) as Promise<AwsResponse>;
  }

  private async attempt(request: AwsRequest): Promise<AwsResponse> {
    const url = this.endpoint;
    const path = `${url.pathname.replace(/\/$/, '')}${request.path}`;
    const signed = await this.signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path,
      query: {},
      headers: { host: url.host, ...request.headers },
      ...(request.body !== undefined && { body: request.body }),
    });
    const { host: _host, ...headers } = signed.headers;
    let response: Response;
    let body: string;
    try {
      response = await fetch(`${url.origin}${path}`, {
        method: request.method,
        headers,
        ...(request.body !== undefined && { body: request.body }),
        ...(request.signal && { signal: request.signal }),
      });
      body = await response.text();
    } catch (error) {
      // Called off by the caller's signal (a deadline, say): an AbortError, never retried, as the SDK's.
      if (request.signal?.aborted) throw Object.assign(new Error('The request was aborted', { cause: request.signal.reason }), { name: 'AbortError' });
      throw networkError(error);
    }
    if (response.ok) return { status: response.status, body };
    throw serviceError(response, body);
  }
}

/** The function role's credentials: on Lambda they are in the environment, as they are on the local stack. */
async function environmentCredentials() {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) throw new AwsError('CredentialsProviderError', 'no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
}

/** As the SDK names an error: from `x-amzn-errortype`, or a JSON body's `__type` (`com.amazonaws.sqs#QueueDoesNotExist`). */
function serviceError(response: Response, body: string): AwsError {
  let parsed: { __type?: string; message?: string; Message?: string } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // Not JSON: the status and the header say enough.
  }
  const type = response.headers.get('x-amzn-errortype') ?? parsed.__type ?? `Http${response.status}`;
  const name = type.split(':')[0]?.split('#').at(-1) || `Http${response.status}`;
  return new AwsError(name, parsed.message ?? parsed.Message ?? `${response.status} ${response.statusText}`, response.status);
}

/** fetch's own codes for a socket closed or timed out, as Node's sockets name them (what the SDK retries on). */
const socketCodes: Record<string, string> = {
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_CLOSED: 'ECONNRESET',
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_HEADERS_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_BODY_TIMEOUT: 'ETIMEDOUT',
};

/** A request that got no answer: fetch's TypeError, with the socket's code (ECONNRESET) that the SDK retries on. */
function networkError(error: unknown): Error {
  const raw = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  const code = raw === undefined ? undefined : (socketCodes[raw] ?? raw);
  return new AwsError('NetworkError', `${(error as Error).message}${code ? ` (${code})` : ''}`, undefined, code);
}

type SdkError = Parameters<typeof isThrottlingError>[0];

/** The SDK's retry middleware's classification, for its retry strategy. */
function retryErrorType(error: SdkError): RetryErrorType {
  if (isThrottlingError(error)) return 'THROTTLING';
  if (isTransientError(error)) return 'TRANSIENT';
  if (isServerError(error)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

/** An AWS JSON protocol call (SQS's 1.0, EventBridge's 1.1): a POST of the input, named by `X-Amz-Target`. */
export async function jsonCall<Output>(
  api: AwsApi,
  { target, version, action, input, signal }: { target: string; version: '1.0' | '1.1'; action: string; input: Record<string, unknown>; signal?: AbortSignal },
): Promise<Output> {
  const response = await api.send({
    command: `${action}Command`,
    input,
    method: 'POST',
    path: '/',
    headers: { 'content-type': `application/x-amz-json-${version}`, 'x-amz-target': `${target}.${action}` },
    body: JSON.stringify(input),
    ...(signal && { signal }),
  });
  return (response.body ? JSON.parse(response.body) : {}) as Output;
}
