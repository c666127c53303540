/**
 * The admin key: read once from the URL fragment (`#key=…`, which browsers never send to a server),
 * kept in sessionStorage (this tab only, gone when it closes), and at once removed from the address
 * bar, so it is never in a URL that is bookmarked, shared or sent.
 */
const storageKey = 'pigeonhole.adminKey';

export function takeKeyFromLocation(): void {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const key = fragment.get('key');
  if (key === null) return;
  if (key !== '') sessionStorage.setItem(storageKey, key);
  history.replaceState(null, '', `${location.pathname}${location.search}#overview`);
}

export const storedKey = (): string | null => sessionStorage.getItem(storageKey);
export const storeKey = (key: string): void => sessionStorage.setItem(storageKey, key);
export const forgetKey = (): void => sessionStorage.removeItem(storageKey);
