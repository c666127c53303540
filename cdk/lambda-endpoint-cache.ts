/**
 * Stands in for @aws-sdk/endpoint-cache in the Lambda bundles. Every DynamoDB client builds an
 * endpoint-discovery cache, discovery on or not (it is off: the default), and the real one brings an
 * LRU library (mnemonist, some 8 KB of each bundle) for it. The same behaviour on a Map, whose order
 * of insertion is the order of use. Wired in by cdk/bundling.ts; the local stack and the CLI use the real one.
 */
interface CachedEndpoint {
  Address: string;
  Expires: number;
}

export class EndpointCache {
  private readonly cache = new Map<string, CachedEndpoint[]>();

  constructor(private readonly capacity: number) {}

  /** One of the key's live endpoints, at random, as the SDK's cache answers. */
  getEndpoint(key: string): string | undefined {
    const endpoints = this.get(key);
    if (!endpoints || endpoints.length === 0) return undefined;
    return endpoints[Math.floor(Math.random() * endpoints.length)]?.Address;
  }

  get(key: string): CachedEndpoint[] | undefined {
    if (!this.has(key)) return undefined;
    const value = this.cache.get(key) as CachedEndpoint[];
    this.touch(key, value);
    const now = Date.now();
    const live = value.filter((endpoint) => now < endpoint.Expires);
    if (live.length === 0) {
      this.delete(key);
      return undefined;
    }
    return live;
  }

  set(key: string, endpoints: ReadonlyArray<{ Address: string; CachePeriodInMinutes: number }>): void {
    const now = Date.now();
    this.touch(key, endpoints.map(({ Address, CachePeriodInMinutes }) => ({ Address, Expires: now + CachePeriodInMinutes * 60_000 })));
  }

  delete(key: string): void {
    this.touch(key, []);
  }

  /** Whether the key has endpoints, expired or not; does not count as a use. */
  has(key: string): boolean {
    return (this.cache.get(key)?.length ?? 0) > 0;
  }

  clear(): void {
    this.cache.clear();
  }

  /** Stores the key as the most recently used; past the capacity, the least recently used goes. */
  private touch(key: string, value: CachedEndpoint[]): void {
    this.cache.delete(key);
    this.cache.set(key, value);
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value as string);
  }
}
