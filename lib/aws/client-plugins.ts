/**
 * SDK plugins that the local stack adds to every AWS client the handlers build: fault injection for
 * the tests, request metering for the benchmarks. On Lambda nothing registers any, and clients are
 * built exactly as they would be without this module.
 */
import type { Pluggable } from '@smithy/types';

export type ClientPlugin = Pluggable<object, object>;

const plugins: ClientPlugin[] = [];

export function registerClientPlugin(plugin: ClientPlugin): () => void {
  plugins.push(plugin);
  return () => {
    const index = plugins.indexOf(plugin);
    if (index >= 0) plugins.splice(index, 1);
  };
}

/** Any SDK v3 client: each one's middleware stack takes plugins typed for its own commands. */
interface PluggableClient {
  middlewareStack: { use(plugin: never): void };
}

export function withClientPlugins<Client extends PluggableClient>(client: Client): Client {
  // The plugins read only the generic parts of a request (command name, input), so they suit any
  // client; the cast stands in for the per-client command types they do not care about.
  for (const plugin of plugins) client.middlewareStack.use(plugin as never);
  return client;
}
