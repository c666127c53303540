import { describe, expect, it } from 'vitest';
import { describeFaultMix, faultRules, parseFaultMix } from '../../local/faults';

describe('fault mixes', () => {
  it('reads shares and percentages, and makes one rule per kind of call', () => {
    const mix = parseFaultMix('dynamodb=0.05, connections=5%');
    expect(mix).toEqual({ dynamodb: 0.05, connections: 0.05 });
    expect(faultRules(mix)).toEqual([
      { client: 'DynamoDBClient', rate: 0.05, fault: ['throttled', 'server-error', 'timeout', 'lost-reply'] },
      { client: 'ApiGatewayManagementApiClient', command: 'PostToConnectionCommand', rate: 0.05, fault: ['gone', 'throttled', 'server-error'] },
    ]);
    expect(describeFaultMix({ dynamodb: 0.125 })).toBe(
      '12.5 % of DynamoDB requests (throttled, 500, timeout, lost reply), 0 % of @connections posts (410, 429, 500)',
    );
  });

  it.each(['dynamodb', 'dynamodb=', 'dynamodb=1.5', 'dynamodb=101%', 'lambda=0.1', 'dynamodb=-1', 'dynamodb=0.1;connections=0.1'])('refuses %j', (spec) => {
    expect(() => parseFaultMix(spec)).toThrow(/is not a fault share/);
  });
});
