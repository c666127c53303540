/**
 * What keeps one flood from starving the rest on AWS (issue 13): reserved Lambda concurrency for the
 * functions every connection needs (the authorizer, `$connect`, the drain, `$disconnect`), declared in
 * functions/catalog.ts, and chosen at deploy time through CDK context, since not every account can
 * reserve any:
 *
 *   npx cdk deploy                                        the catalog's reservations
 *   npx cdk deploy -c reservedConcurrency=off             none: an account whose concurrency limit is
 *                                                         still the new-account 10 (AWS keeps 100 unreserved)
 *   npx cdk deploy -c 'reservedConcurrency={"drain":25}'  the catalog's, with these changed (0: none)
 */
import { functionCatalog, type FunctionDeclaration, type FunctionName } from '../functions/catalog';

export const reservedConcurrencyContextKey = 'reservedConcurrency';

/** Each function's reserved concurrency, from the catalog and the context value (a string from `-c`, or JSON from cdk.json). */
export function reservedConcurrency(context: unknown): Map<FunctionName, number> {
  const reserved = new Map<FunctionName, number>();
  if (context === 'off' || context === 'none' || context === 'false' || context === false) return reserved;
  for (const [name, declaration] of Object.entries(functionCatalog) as Array<[FunctionName, FunctionDeclaration]>) {
    if (declaration.reservedConcurrency) reserved.set(name, declaration.reservedConcurrency);
  }
  if (context === undefined || context === 'on' || context === true) return reserved;
  const overrides = typeof context === 'string' ? parseOverrides(context) : context;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw invalid(context);
  for (const [name, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(functionCatalog, name)) throw new Error(`${reservedConcurrencyContextKey}: no function named ${name} in the catalog`);
    if (!Number.isInteger(value) || (value as number) < 0) throw new Error(`${reservedConcurrencyContextKey}: ${name} must be a whole number, 0 for none`);
    if (value === 0) reserved.delete(name as FunctionName);
    else reserved.set(name as FunctionName, value as number);
  }
  return reserved;
}

function parseOverrides(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(text);
  }
}

function invalid(context: unknown): Error {
  return new Error(
    `${reservedConcurrencyContextKey} must be off, on, or a JSON object of function names and numbers (got ${JSON.stringify(context)})`,
  );
}
