/**
 * What the local stack adds to every AWS call the handlers make: fault injection and grants for the
 * tests, request metering and tracing for the benchmarks and the chaos suite. A plugin is SDK
 * middleware for the SDK's clients (DynamoDB's), hooks for the calls made through aws-api.ts, or
 * both. On Lambda nothing registers any, and calls are made exactly as they would be without this module.
 */
import type { MiddlewareStack, Pluggable } from '@smithy/types';

/** One AWS call, as plugins see it from either kind of client: the SDK's names for client and command. */
export interface AwsCall {
  readonly client: string;
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** Runs around a call (or one attempt of it): may look, refuse, or fail it instead of calling `next`. */
export type CallHook = (call: AwsCall, next: () => Promise<unknown>) => Promise<unknown>;

export interface ClientPlugin extends Partial<Pluggable<object, object>> {
  /** Around a whole call through aws-api.ts, its retries included: the SDK's initialize step. */
  aroundCall?: CallHook;
  /** Around each attempt, inside the retries: the SDK's deserialize step. */
  aroundAttempt?: CallHook;
}

const plugins: ClientPlugin[] = [];

export function registerClientPlugin(plugin: ClientPlugin): () => void {
  plugins.push(plugin);
  return () => {
    const index = plugins.indexOf(plugin);
    if (index >= 0) plugins.splice(index, 1);
  };
}

/**
 * A plugin made of one hook, for both kinds of client: SDK middleware at `step`, and the aws-api.ts
 * hook of the same place (initialize: around the call; deserialize: around each attempt).
 */
export function hookPlugin(hook: CallHook, where: { step: 'initialize' | 'deserialize'; name: string; priority: 'high' | 'low' }): ClientPlugin {
  return {
    applyToStack: (stack: MiddlewareStack<object, object>) => {
      stack.add(
        (next, context) => (args) =>
          hook(
            { client: context.clientName ?? '', command: context.commandName ?? '', input: args.input as Record<string, unknown> },
            () => next(args),
          ) as ReturnType<typeof next>,
        where as never,
      );
    },
    [where.step === 'initialize' ? 'aroundCall' : 'aroundAttempt']: hook,
  };
}

/** Any SDK v3 client: each one's middleware stack takes plugins typed for its own commands. */
interface PluggableClient {
  middlewareStack: { use(plugin: never): void };
}

export function withClientPlugins<Client extends PluggableClient>(client: Client): Client {
  // The plugins read only the generic parts of a request (command name, input), so they suit any
  // client; the cast stands in for the per-client command types they do not care about.
  for (const plugin of plugins) if (plugin.applyToStack) client.middlewareStack.use(plugin as never);
  return client;
}

/** The registered hooks, composed: the first registered runs outermost. */
export function callHooks(): { aroundCall: CallHook; aroundAttempt: CallHook } {
  const compose = (hooks: CallHook[]): CallHook => (call, next) => hooks.reduceRight<() => Promise<unknown>>((inner, hook) => () => hook(call, inner), next)();
  return {
    aroundCall: compose(plugins.flatMap((plugin) => plugin.aroundCall ?? [])),
    aroundAttempt: compose(plugins.flatMap((plugin) => plugin.aroundAttempt ?? [])),
  };
}
