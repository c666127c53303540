/**
 * `$connect` (SPEC §3): records the connection and says what its drain should do. With
 * `cleanStart=true`, or when the user's session expired while they were away, everything accepted
 * before this connection is discarded rather than delivered, as an MQTT broker does. The discard is
 * recorded with the user's presence, so that every drain and sync of the connection honours it.
 */
import type { Clock } from './clock';
import { registerConnection, sessionExpired, type Caller, type ConnectionStore, type Discard } from './connections';
import type { DrainRequest } from './drain';
import { firstIdAt } from './message-ids';
import type { ConnectQuery } from './protocol';
import type { SettingsReader } from './settings-reader';

export async function openConnection(
  deps: { connections: ConnectionStore; settings: SettingsReader; clock: Clock },
  caller: Caller,
  query: ConnectQuery,
): Promise<DrainRequest> {
  const cleanStart = query.cleanStart === 'true';
  const discardFrom = (reason: Discard['reason']) => (at: Date) => ({ beforeId: firstIdAt(at), reason });
  const { connection, before } = await registerConnection(
    deps.connections,
    deps.clock,
    { ...caller, ...(query.deviceId === undefined ? {} : { deviceId: query.deviceId }) },
    cleanStart ? discardFrom('cleanStart') : undefined,
  );
  if (cleanStart) return { ...caller, discard: discardFrom('cleanStart')(connection.connectedAt) };

  const { sessionExpiryHours } = await deps.settings.appSettings();
  if (!sessionExpired(before, connection.connectedAt, sessionExpiryHours)) return caller;
  // Recorded before the connection opens, so that a `sync` sent at once honours it too.
  const discard = discardFrom('expired')(connection.connectedAt);
  await deps.connections.setDiscard(caller.userId, discard);
  return { ...caller, discard };
}
