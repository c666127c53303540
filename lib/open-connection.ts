/**
 * `$connect` (SPEC §3): records the connection and says what its drain should do. With
 * `cleanStart=true`, or when the user's session expired while they were away, everything accepted
 * before this connection is discarded rather than delivered, as an MQTT broker does.
 */
import type { Clock } from './clock';
import { registerConnection, sessionExpired, type Caller, type ConnectionStore } from './connections';
import type { DrainRequest } from './drain';
import { firstIdAt } from './message-ids';
import type { ConnectQuery } from './protocol';
import type { SettingsReader } from './settings-reader';

export async function openConnection(
  deps: { connections: ConnectionStore; settings: SettingsReader; clock: Clock },
  caller: Caller,
  query: ConnectQuery,
): Promise<DrainRequest> {
  const { connection, before } = await registerConnection(deps.connections, deps.clock, {
    ...caller,
    ...(query.deviceId === undefined ? {} : { deviceId: query.deviceId }),
  });
  const beforeId = firstIdAt(connection.connectedAt);
  if (query.cleanStart === 'true') return { ...caller, discard: { beforeId, reason: 'cleanStart' } };
  const { sessionExpiryHours } = await deps.settings.appSettings();
  if (sessionExpired(before, connection.connectedAt, sessionExpiryHours)) return { ...caller, discard: { beforeId, reason: 'expired' } };
  return caller;
}
