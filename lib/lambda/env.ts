/** Reads a variable the function cannot run without, so a missing one fails at cold start, loudly. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} environment variable is not set`);
  return value;
}
