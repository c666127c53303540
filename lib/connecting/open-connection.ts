/**
 * `$connect` (SPEC §3): records the connection and says what its drain should do. With
 * `cleanStart=true`, or when the user's session expired while they were away, everything accepted
 * before this connection is discarded rather than delivered, as an MQTT broker does. The discard is
 * recorded with the user's presence, so that every drain and sync of the connection honours it.
 *
 * A user has at most `maxConnectionsPerUser` connections (SPEC §6): a new one past that replaces the
 * oldest, which is told `closing` with reason `replaced` and closed. API Gateway's `@connections`
 * DELETE sets no close code, so the frame is how its client knows not to reconnect.
 *
 * `$connect` cannot post to its own connection (API Gateway answers 410 until it returns), so it hands
 * the queue to the drain, started here and run after it (lib/delivery/ordering.ts).
 */
import type { Clock } from '../clock';
import { registerConnection, replacedFrame, sessionExpired, type Caller, type Connection, type ConnectionStore, type Discard } from './connections';
import { firstIdAt } from '../sending/message-ids';
import type { ConnectQuery } from '../protocol';
import type { SettingsReader } from '../retention/settings-reader';
import type { StatsCounters } from '../admin/stats';
import type { DrainRequest } from '../delivery/ordering';
import type { ConnectionPoster, DeliveryLog } from '../delivery/poster';

/** Starts the drain of a connection being opened: an asynchronous Lambda invocation on AWS. */
export interface DrainStarter {
  start(request: DrainRequest): Promise<void>;
}

export interface OpenConnectionDeps {
  connections: ConnectionStore;
  drains: DrainStarter;
  stats?: Pick<StatsCounters, 'add'>;
  settings: SettingsReader;
  clock: Clock;
  poster: Pick<ConnectionPoster, 'post' | 'close'>;
  log: DeliveryLog & { error(message: string, details: Record<string, unknown>): void };
}

/**
 * Records the connection and starts its drain; 'refused' when the drain could not be started. Without
 * its drain the connection would never get its queue, and pushes would wait for it in vain: refused
 * instead (and forgotten), the client connects again.
 */
export async function openConnection(deps: OpenConnectionDeps, caller: Caller, query: ConnectQuery): Promise<'opened' | 'refused'> {
  const drain = await admit(deps, caller, query);
  try {
    await deps.drains.start(drain);
  } catch (error) {
    deps.log.error('could not start the drain; refusing the connection', { error });
    await deps.connections.remove(caller.userId, caller.connectionId, deps.clock.now());
    return 'refused';
  }
  deps.stats?.add('connectionsOpened', 1);
  return 'opened';
}

/** Records the connection, replacing the oldest past the cap, and says what its drain should do. */
async function admit(deps: OpenConnectionDeps, caller: Caller, query: ConnectQuery): Promise<DrainRequest> {
  const cleanStart = query.cleanStart === 'true';
  const discardFrom = (reason: Discard['reason']) => (at: Date) => ({ beforeId: firstIdAt(at), reason });
  const { sessionExpiryHours, maxConnectionsPerUser } = await deps.settings.appSettings();
  const { connection, before, replaced } = await registerConnection(
    deps.connections,
    deps.clock,
    { ...caller, ...(query.deviceId === undefined ? {} : { deviceId: query.deviceId }) },
    cleanStart ? discardFrom('cleanStart') : undefined,
    maxConnectionsPerUser,
  );
  await closeReplaced(deps, replaced);
  const drain = { ...caller, ...(before?.ackedUpTo && { ackedUpTo: before.ackedUpTo }) };
  if (cleanStart) return { ...drain, discard: discardFrom('cleanStart')(connection.connectedAt) };

  if (!sessionExpired(before, connection.connectedAt, sessionExpiryHours)) return drain;
  // Recorded before the connection opens, so that a `sync` sent at once honours it too.
  const discard = discardFrom('expired')(connection.connectedAt);
  await deps.connections.setDiscard(caller.userId, discard);
  return { ...drain, discard };
}

/**
 * Tells each replaced connection, then closes it. They are already forgotten, so nothing more is
 * pushed to them; a failure here is logged, never the new connection's refusal.
 */
async function closeReplaced(deps: Pick<OpenConnectionDeps, 'poster' | 'log'>, replaced: readonly Connection[]): Promise<void> {
  await Promise.all(
    replaced.map(async ({ connectionId }) => {
      try {
        // 410: closed already, or still opening; then its drain tells it once it opens (see cutOffOnceOpen).
        if ((await deps.poster.post(connectionId, replacedFrame)) === 'gone') return;
      } catch (error) {
        deps.log.warn('could not tell a replaced connection', { connectionId, error });
      }
      try {
        await deps.poster.close(connectionId);
      } catch (error) {
        deps.log.warn('could not close a replaced connection', { connectionId, error });
      }
    }),
  );
}
