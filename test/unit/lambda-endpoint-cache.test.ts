import { EndpointCache as SdkEndpointCache } from '@aws-sdk/endpoint-cache';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EndpointCache } from '../../cdk/lambda-endpoint-cache';

afterEach(() => vi.useRealTimers());

/** The same steps on the SDK's cache and the stand-in, answers side by side. */
function both(capacity: number) {
  const caches = [new SdkEndpointCache(capacity), new EndpointCache(capacity)] as const;
  return {
    set: (key: string, minutes: number, ...addresses: string[]) =>
      caches.forEach((cache) => cache.set(key, addresses.map((Address) => ({ Address, CachePeriodInMinutes: minutes })))),
    answers: (key: string) => caches.map((cache) => ({ has: cache.has(key), endpoints: cache.get(key) })),
    delete: (key: string) => caches.forEach((cache) => cache.delete(key)),
    clear: () => caches.forEach((cache) => cache.clear()),
  };
}

describe('the endpoint cache of the Lambda bundles', () => {
  it('answers as the SDK’s does: endpoints until they expire, the least recently used evicted past its capacity', () => {
    vi.useFakeTimers({ now: Date.parse('2030-01-15T10:00:00Z') });
    const caches = both(2);
    const same = (key: string) => {
      const [sdk, standIn] = caches.answers(key);
      expect(standIn).toEqual(sdk);
      return standIn;
    };
    caches.set('a', 1, 'a1', 'a2');
    caches.set('b', 5, 'b1');
    expect(same('a')?.endpoints?.map((e) => e.Address)).toEqual(['a1', 'a2']);
    caches.set('c', 5, 'c1'); // 'b' was used least recently
    expect(same('b')).toEqual({ has: false, endpoints: undefined });
    expect(same('a')?.has).toBe(true);
    expect(same('c')?.has).toBe(true);
    vi.advanceTimersByTime(2 * 60_000); // 'a' expires, 'c' does not
    expect(same('a')).toEqual({ has: true, endpoints: undefined });
    expect(same('a')).toEqual({ has: false, endpoints: undefined });
    expect(same('c')?.endpoints?.map((e) => e.Address)).toEqual(['c1']);
    caches.delete('c');
    expect(same('c')).toEqual({ has: false, endpoints: undefined });
    caches.set('d', 5, 'd1');
    caches.clear();
    expect(same('d')).toEqual({ has: false, endpoints: undefined });
  });

  it('picks one of a key’s live endpoints', () => {
    const cache = new EndpointCache(10);
    cache.set('k', [{ Address: 'one', CachePeriodInMinutes: 1 }, { Address: 'two', CachePeriodInMinutes: 1 }]);
    expect(['one', 'two']).toContain(cache.getEndpoint('k'));
    expect(cache.getEndpoint('other')).toBeUndefined();
  });
});
