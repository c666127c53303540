/**
 * DynamoDB Local accepts any credentials, so it must not be reachable from anywhere but this machine:
 * it listens on 127.0.0.1 only (local/java/LoopbackDynamoDbLocal.java).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { localDynamoDbEndpoint } from '../support/local-stack';

/** Local addresses of the sockets listening on a port, from the kernel's tables (Linux). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A')
    .map((fields) => (fields[1] as string).split(':')[0] as string);
}

describe('DynamoDB Local', () => {
  it.runIf(existsSync('/proc/net/tcp'))('listens on the loopback address only', () => {
    const addresses = listeningAddresses(Number(new URL(localDynamoDbEndpoint()).port));
    expect(addresses.length).toBeGreaterThan(0);
    // 127.0.0.1, as IPv4 or IPv4-mapped IPv6; never 0.0.0.0 or ::.
    expect(addresses.every((address) => ['0100007F', '0000000000000000FFFF00000100007F'].includes(address))).toBe(true);
  });
});
