/**
 * `npx pigeonhole`: the admin API from the command line (SPEC §8). Readable output by default,
 * `--json` for scripts; on any error, one line saying why and a non-zero exit.
 */
import { parseArgs } from 'node:util';
import {
  adminRoutes,
  type ConfigResponse,
  type GroupListResponse,
  type OfflineSummaryResponse,
  type StatsResponse,
  type TokenResponse,
  type UserConfigResponse,
} from '../lib/admin/admin-api';
import type { GroupResponse } from '../lib/groups/admin-groups';
import type { BackendMessageResponse } from '../lib/sending/backend-send';
import { appSettingSpecs } from '../lib/retention/settings';
import type { SystemMessageResponse } from '../lib/sending/system-messages';
import { AdminClient, AdminSetupError, adminAuthFor, type AdminAuth } from './admin-client';
import { serveConsole } from './console-proxy';

const usage = `Usage: pigeonhole <command> [options]

Commands:
  config get                     the app's settings
  config set <key>=<value>...    change settings (all or nothing), e.g. maxOfflineMessages=500
  user get <id>                  a user's own offline-message duration, and the one in force
  user set <id> <days>           set a user's duration (1-7 days)
  user clear <id>                remove it: the app's applies again
  queue <id>                     what is waiting in a user's offline queue
  token <id> [--ttl <seconds>]   a client token for a user (default 24 h)
  group list                     every group with its member count
  group put <id> <users...>      create a group, or make its members exactly these
  group get <id>                 a group and its members
  group delete <id>              delete a group
  group add <id> <users...>      add members
  group remove <id> <users...>   remove members
  system <ids> <json>            a system message to users (ids comma-separated), e.g. system alice,bob '{"text":"hi"}'
  send <from> <to> <json>        a message from a user, as if they had sent it (to a user; with --group, to a group),
                                 e.g. send alice bob '{"text":"hi"}'; --client-msg-id <id> makes a resend a duplicate,
                                 --ttl <seconds> shortens its life
  delete-group-messages <group> <user>
                                 remove a member's messages from the group's history and every queue
  stats                          connections open; messages accepted, stored, pushed, delivered, dropped;
                                 drains, offline events, fan-out backlog
  fan-out redrive                send the fan-out jobs that failed five times back to be done again
  console                        the admin web console on 127.0.0.1, its calls signed with SigV4
                                 against --endpoint (see --port)

Options:
  --endpoint <url>   the admin API (default: $PIGEONHOLE_ENDPOINT, else http://127.0.0.1:3002/v1)
  --json             print the API's JSON answer
  --sigv4            sign requests with your AWS credentials (the default for *.amazonaws.com)
  --region <region>  the region to sign for (default: from the endpoint, else $AWS_REGION)
  --port <port>      console: the local port to serve it on (default 3003; 0 for any free one)
  --group            send: <to> is a group
  --client-msg-id <id>
                     send: the message's clientMsgId (default: a new one each time)
  -h, --help         this help

Locally the admin key comes from $PIGEONHOLE_ADMIN_KEY (npm start prints it). Against AWS,
requests are signed with the standard AWS credential chain (environment, profile, SSO, role).`;

class UsageError extends Error {}

interface Options {
  json: boolean;
  ttl?: string;
  group: boolean;
  clientMsgId?: string;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      endpoint: { type: 'string' },
      json: { type: 'boolean', default: false },
      sigv4: { type: 'boolean', default: false },
      region: { type: 'string' },
      ttl: { type: 'string' },
      port: { type: 'string' },
      group: { type: 'boolean', default: false },
      'client-msg-id': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(usage);
    return;
  }
  const endpoint = values.endpoint ?? process.env.PIGEONHOLE_ENDPOINT ?? 'http://127.0.0.1:3002/v1';
  if (positionals[0] === 'console') {
    if (positionals.length > 1) throw new UsageError(`unknown command '${positionals.join(' ')}'; see pigeonhole --help`);
    return serveConsole(endpoint, authFor(endpoint, values.sigv4, values.region), values.port);
  }
  const client = new AdminClient(endpoint, authFor(endpoint, values.sigv4, values.region));
  await run(client, positionals, {
    json: values.json,
    group: values.group,
    ...(values.ttl !== undefined && { ttl: values.ttl }),
    ...(values['client-msg-id'] !== undefined && { clientMsgId: values['client-msg-id'] }),
  });
}

function authFor(endpoint: string, sigv4: boolean, region: string | undefined): AdminAuth {
  try {
    return adminAuthFor(endpoint, { sigv4, ...(region !== undefined && { region }) });
  } catch (error) {
    if (error instanceof AdminSetupError) throw new UsageError(error.message);
    throw error;
  }
}

async function run(client: AdminClient, [command, ...args]: string[], options: Options): Promise<void> {
  const print = (json: unknown, human: () => string) => console.log(options.json ? JSON.stringify(json, null, 2) : human());
  const [sub, ...rest] = args;
  switch (command) {
    case 'config': {
      if (sub === 'get') {
        const config = await client.call<ConfigResponse>(adminRoutes.getConfig);
        return print(config, () => formatConfig(config));
      }
      if (sub === 'set') {
        if (rest.length === 0) throw new UsageError('config set needs at least one key=value');
        const change = Object.fromEntries(rest.map(parseAssignment));
        const config = await client.call<ConfigResponse>(adminRoutes.patchConfig, { body: change });
        return print(config, () => `Updated ${Object.keys(change).join(', ')}.\n\n${formatConfig(config)}`);
      }
      break;
    }
    case 'user': {
      const routes = { get: adminRoutes.getUserConfig, set: adminRoutes.putUserConfig, clear: adminRoutes.deleteUserConfig };
      if (sub !== 'get' && sub !== 'set' && sub !== 'clear') break;
      const id = requireArg(rest[0], 'a user id');
      const body = sub === 'set' ? { offlineMessageDurationDays: parseNumber(requireArg(rest[1], 'the number of days')) } : undefined;
      const user = await client.call<UserConfigResponse>(routes[sub], { id, ...(body && { body }) });
      return print(user, () => formatUser(user));
    }
    case 'queue': {
      const summary = await client.call<OfflineSummaryResponse>(adminRoutes.getUserOffline, { id: requireArg(sub, 'a user id') });
      return print(summary, () => formatQueue(summary));
    }
    case 'group': {
      if (sub === 'list') {
        const groups: GroupListResponse['groups'] = [];
        let cursor: string | undefined;
        do {
          const page: GroupListResponse = await client.call<GroupListResponse>(adminRoutes.listGroups, {
            ...(cursor !== undefined && { query: { cursor } }),
          });
          groups.push(...page.groups);
          cursor = page.next;
        } while (cursor !== undefined);
        return print({ groups }, () => formatGroupList(groups));
      }
      const id = requireArg(rest[0], 'a group id');
      const users = rest.slice(1).flatMap((user) => user.split(',')).filter((user) => user !== '');
      let group: GroupResponse;
      if (sub === 'put') group = await client.call<GroupResponse>(adminRoutes.putGroup, { id, body: { members: users } });
      else if (sub === 'get') group = await client.call<GroupResponse>(adminRoutes.getGroup, { id });
      else if (sub === 'add' || sub === 'remove') {
        if (users.length === 0) throw new UsageError(`group ${sub} needs at least one user`);
        group = await client.call<GroupResponse>(adminRoutes.changeGroupMembers, { id, body: { [sub]: users } });
      } else if (sub === 'delete') {
        const deleted = await client.call<{ groupId: string }>(adminRoutes.deleteGroup, { id });
        return print(deleted, () => `Deleted group ${deleted.groupId}.`);
      } else break;
      return print(group, () => formatGroup(group));
    }
    case 'system': {
      const to = requireArg(sub, 'the users, comma-separated').split(',').filter((user) => user !== '');
      const body = parseJson(requireArg(rest[0], 'the message body, as JSON'));
      const sent = await client.call<SystemMessageResponse>(adminRoutes.sendSystemMessage, { body: { to, body } });
      return print(sent, () => `Sent ${sent.id} to ${sent.recipients} user${sent.recipients === 1 ? '' : 's'}.`);
    }
    case 'send': {
      const from = requireArg(sub, 'the user it is from');
      const target = requireArg(rest[0], options.group ? 'the group' : 'the user it is to');
      const body = parseJson(requireArg(rest[1], 'the message body, as JSON'));
      if (rest.length > 2) break;
      const request = {
        from,
        type: options.group ? 'group' : 'private',
        target,
        body,
        ...(options.clientMsgId !== undefined && { clientMsgId: options.clientMsgId }),
        ...(options.ttl !== undefined && { ttlSeconds: parseNumber(options.ttl) }),
      };
      const sent = await client.call<BackendMessageResponse>(adminRoutes.sendMessage, { body: request });
      return print(sent, () => `Sent ${sent.id} from ${from} to ${options.group ? `group ${target}` : target} (${sent.status}).`);
    }
    case 'delete-group-messages': {
      const groupId = requireArg(sub, 'a group id');
      const from = requireArg(rest[0], 'the user whose messages go');
      const result = await client.call<{ removed: { history: number; queued: number }; pendingMembers: number }>(adminRoutes.deleteGroupMessages, {
        id: groupId,
        query: { from },
      });
      const pending = result.pendingMembers > 0 ? ` The other ${result.pendingMembers} members' queues are being searched in the background.` : '';
      return print(result, () => `Removed ${result.removed.history} from ${groupId}'s history and ${result.removed.queued} from queues.${pending}`);
    }
    case 'fan-out': {
      if (sub !== 'redrive' || rest.length > 0) break;
      const moved = await client.call<{ taskHandle: string }>(adminRoutes.redriveFanOut);
      return print(moved, () => `Moving the dead-lettered fan-out jobs back to the fan-out queue (task ${moved.taskHandle}).`);
    }
    case 'stats': {
      if (sub !== undefined) break;
      const stats = await client.call<StatsResponse>(adminRoutes.getStats);
      return print(stats, () => formatStats(stats));
    }
    case 'token': {
      const body = { userId: requireArg(sub, 'a user id'), ...(options.ttl !== undefined && { ttlSeconds: parseNumber(options.ttl) }) };
      const token = await client.call<TokenResponse>(adminRoutes.createToken, { body });
      // Just the token, so that `$(npx pigeonhole token alice)` works.
      return print(token, () => token.token);
    }
  }
  throw new UsageError(`unknown command '${[command, ...args].join(' ')}'; see pigeonhole --help`);
}

function requireArg(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`give ${what}`);
  return value;
}

/** `key=value`, the value read as JSON where it is JSON (5, true, null), else as a string. */
function parseAssignment(assignment: string): [string, unknown] {
  const at = assignment.indexOf('=');
  if (at <= 0) throw new UsageError(`'${assignment}' is not key=value`);
  const raw = assignment.slice(at + 1);
  try {
    return [assignment.slice(0, at), JSON.parse(raw)];
  } catch {
    return [assignment.slice(0, at), raw];
  }
}

function parseNumber(raw: string): unknown {
  const value = Number(raw);
  return raw.trim() !== '' && Number.isFinite(value) ? value : raw;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new UsageError(`the body must be JSON, e.g. '{"text":"hello"}' or '"hello"'`);
  }
}

function formatGroup(group: GroupResponse): string {
  return [
    `group    ${group.groupId}`,
    `members  ${group.memberCount}${group.memberCount > 0 ? `: ${group.members.join(', ')}` : ''}`,
    `created  ${group.createdAt}`,
  ].join('\n');
}

function formatGroupList(groups: GroupListResponse['groups']): string {
  if (groups.length === 0) return 'No groups.';
  const width = Math.max(...groups.map((group) => group.groupId.length));
  return groups.map((group) => `${group.groupId.padEnd(width)}  ${group.memberCount} member${group.memberCount === 1 ? '' : 's'}`).join('\n');
}

function formatStats(stats: StatsResponse): string {
  const { messages, drains, offlineEvents, fanOut } = stats;
  const dropped = Object.entries(messages.dropped).map(([reason, count]) => `${count} ${reason}`).join(', ');
  return [
    `since             ${stats.since} (${stats.source === 'local' ? 'this local stack' : 'CloudWatch, last 24 h'})`,
    `connections open  ${stats.connectionsOpen}`,
    `accepted          ${messages.accepted}`,
    `stored            ${messages.stored}`,
    `pushed            ${messages.pushed}`,
    `delivered         ${messages.delivered}`,
    `acked             ${messages.acked}`,
    `duplicates        ${messages.duplicates}`,
    `conflicts         ${messages.conflicts}`,
    `rate limited      ${messages.rateLimited}`,
    `dropped           ${dropped} (${messages.expiredSkipped} of them expired by time)`,
    `drains            ${drains.count} (on average ${drains.averageSize} messages, ${drains.averageMs} ms)`,
    `offline events    ${offlineEvents.emitted} emitted, ${offlineEvents.failed} failed`,
    `fan-out backlog   ${fanOut.backlog ?? 'unknown'} jobs`,
  ].join('\n');
}

function formatConfig(config: ConfigResponse): string {
  const width = Math.max(...Object.keys(appSettingSpecs).map((key) => key.length));
  return (Object.keys(appSettingSpecs) as Array<keyof ConfigResponse>)
    .map((key) => `${key.padEnd(width)}  ${String(config[key])}`)
    .join('\n');
}

function formatUser(user: UserConfigResponse): string {
  const own = user.offlineMessageDurationDays === null ? 'none' : days(user.offlineMessageDurationDays);
  return [
    `user         ${user.userId}`,
    `own setting  ${own}`,
    `in force     ${days(user.inForce.days)} (from the ${user.inForce.source})`,
  ].join('\n');
}

function formatQueue(summary: OfflineSummaryResponse): string {
  const { byType, pendingDrops } = summary;
  const lines = [
    `${summary.userId} has ${summary.count} message${summary.count === 1 ? '' : 's'} waiting ` +
      `(${byType.private} private, ${byType.group} group, ${byType.system} system)`,
  ];
  if (summary.oldestSentAt) lines.push(`oldest  ${summary.oldestSentAt}`, `newest  ${summary.newestSentAt ?? ''}`);
  if (pendingDrops.overflow + pendingDrops.expired > 0) {
    lines.push(`dropped at the next connect: ${pendingDrops.overflow} over a cap, ${pendingDrops.expired} expired`);
  }
  return lines.join('\n');
}

function days(n: number): string {
  return `${n} day${n === 1 ? '' : 's'}`;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const usageError = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  const message = error instanceof Error ? error.message : String(error);
  console.error(`pigeonhole: ${message.split('\n')[0]}`);
  process.exit(usageError ? 2 : 1);
});
