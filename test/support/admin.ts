import type { LocalStack } from '../../local/stack';
import { untilSettled } from './local-stack';

export interface AdminAnswer {
  status: number;
  body: any;
}

/** Calls the local admin API as the CLI and app backends do, with the admin key unless told otherwise. */
export async function admin(
  stack: LocalStack,
  method: string,
  path: string,
  body?: unknown,
  options: { key?: string | null; rawBody?: string } = {},
): Promise<AdminAnswer> {
  const key = options.key === undefined ? stack.adminKey : options.key;
  const response = await fetch(`${stack.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key !== null && { authorization: `Bearer ${key}` }) },
    ...(options.rawBody !== undefined ? { body: options.rawBody } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  // An app setting is in force everywhere within 60 s (SPEC §6): under AWS timing, read by the next
  // request straight from the table, it still takes the stale-read window to be seen.
  if (method === 'PATCH' && path === '/config' && response.ok) await untilSettled(stack);
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
