import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { Group, GroupLister, GroupStore, LastMessage } from '../groups/groups';
import type { Message } from '../protocol';
import { groupKey, groupMemberKey, groupMembersTable } from '../tables';
import { batchGetAll, batchWriteAll } from './batch';
import { queryAll } from './query';

interface GroupItem {
  groupId: string;
  createdAt: string;
  updatedAt: string;
  memberCount: number;
  /** The last message as JSON text (see message-item.ts for why text). */
  lastMessage?: string;
  lastMessageAt?: string;
  lastMessageExpiresAt?: number;
}

export class DynamoGroupStore implements GroupStore, GroupLister {
  /**
   * A function is given the name of each table it may use, and only those (the history route reads
   * memberships, the admin listing scans groups): the other is absent, and using it is a bug.
   */
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableNames: { groups?: string; members?: string },
  ) {}

  private get groupsTable(): string {
    if (this.tableNames.groups === undefined) throw new Error('this function was given no Groups table');
    return this.tableNames.groups;
  }

  private get membersTable(): string {
    if (this.tableNames.members === undefined) throw new Error('this function was given no GroupMembers table');
    return this.tableNames.members;
  }

  async get(groupId: string): Promise<Group | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.groupsTable, Key: groupKey(groupId), ConsistentRead: true }));
    return result.Item ? toGroup(result.Item as GroupItem) : undefined;
  }

  async members(groupId: string): Promise<string[]> {
    const members = (await queryAll(this.db, {
      TableName: this.membersTable,
      // Strongly consistent: a member added a moment ago gets the next message, one removed does
      // not, and a change of members is worked out from the members as they are.
      ConsistentRead: true,
      KeyConditionExpression: '#group = :group',
      ProjectionExpression: '#member',
      ExpressionAttributeNames: { '#group': groupMembersTable.partitionKey, '#member': groupMembersTable.sortKey },
      ExpressionAttributeValues: { ':group': groupId },
    })).map((item) => item.memberId as string);
    return members;
  }

  /**
   * A Scan, on purpose: only the admin API lists every group, a page at a time. With `Limit` and no
   * filter, a page reads exactly the items it returns (its cost is the page's, not the table's), and
   * nothing is paid on any user's path. An index on a constant key would list groups in order too,
   * but would cost a write on every group change and put every group in one hot partition.
   */
  async list(page: { after?: string; limit: number }): Promise<{ groups: Array<Pick<Group, 'groupId' | 'memberCount'>>; last?: string }> {
    const result = await this.db.send(
      new ScanCommand({
        TableName: this.groupsTable,
        Limit: page.limit,
        ProjectionExpression: 'groupId, memberCount',
        ...(page.after !== undefined && { ExclusiveStartKey: groupKey(page.after) }),
      }),
    );
    const groups = (result.Items ?? []).map((item) => ({ groupId: item.groupId as string, memberCount: (item.memberCount as number | undefined) ?? 0 }));
    const last = result.LastEvaluatedKey?.groupId as string | undefined;
    return { groups, ...(last !== undefined && { last }) };
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    // Strongly consistent: a member added a moment ago may send at once.
    const result = await this.db.send(new GetCommand({ TableName: this.membersTable, Key: groupMemberKey(groupId, userId), ConsistentRead: true }));
    return result.Item !== undefined;
  }

  async setMembers(groupId: string, members: readonly string[], now: Date): Promise<Group> {
    const wanted = new Set(members);
    const current = new Set(await this.members(groupId));
    await this.write(
      groupId,
      [...wanted].filter((member) => !current.has(member)),
      [...current].filter((member) => !wanted.has(member)),
    );
    return this.touch(groupId, wanted.size, now);
  }

  async changeMembers(groupId: string, add: readonly string[], remove: readonly string[], now: Date): Promise<Group | undefined> {
    if (!(await this.get(groupId))) return undefined;
    // BatchWriteItem refuses two requests for one key (ValidationException), so each id goes once.
    const adding = new Set(add);
    await this.write(groupId, [...adding], [...new Set(remove)].filter((member) => !adding.has(member)));
    return this.touch(groupId, (await this.members(groupId)).length, now);
  }

  async delete(groupId: string): Promise<boolean> {
    await this.write(groupId, [], await this.members(groupId));
    const result = await this.db.send(new DeleteCommand({ TableName: this.groupsTable, Key: groupKey(groupId), ReturnValues: 'ALL_OLD' }));
    return result.Attributes !== undefined;
  }

  async groupsOf(userId: string): Promise<string[]> {
    const groups = (await queryAll(this.db, {
      TableName: this.membersTable,
      IndexName: 'byMember',
      KeyConditionExpression: '#member = :member',
      ExpressionAttributeNames: { '#member': groupMembersTable.sortKey },
      ExpressionAttributeValues: { ':member': userId },
    })).map((item) => item.groupId as string);
    return groups;
  }

  async recordLastMessage(groupId: string, last: LastMessage): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.groupsTable,
          Key: groupKey(groupId),
          UpdateExpression: 'SET lastMessage = :message, lastMessageAt = :at, lastMessageExpiresAt = :expires',
          // Only onto a group that exists, and never over a later message that got there first.
          ConditionExpression: 'attribute_exists(groupId) AND (attribute_not_exists(lastMessageAt) OR lastMessageAt <= :at)',
          ExpressionAttributeValues: {
            ':message': JSON.stringify(last.message),
            ':at': last.at.toISOString(),
            ':expires': epochSeconds(last.expiresAt),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async lastMessages(groupIds: readonly string[]): Promise<Map<string, LastMessage>> {
    const items = (await batchGetAll(this.db, this.groupsTable, [...new Set(groupIds)].map(groupKey))) as unknown as GroupItem[];
    const last = new Map<string, LastMessage>();
    for (const item of items) {
      if (item.lastMessage === undefined || item.lastMessageAt === undefined || item.lastMessageExpiresAt === undefined) continue;
      last.set(item.groupId, {
        message: JSON.parse(item.lastMessage) as Message,
        at: new Date(item.lastMessageAt),
        expiresAt: new Date(item.lastMessageExpiresAt * 1000),
      });
    }
    return last;
  }

  private async write(groupId: string, add: readonly string[], remove: readonly string[]): Promise<void> {
    await batchWriteAll(this.db, this.membersTable, [
      ...add.map((member) => ({ PutRequest: { Item: groupMemberKey(groupId, member) } })),
      ...remove.map((member) => ({ DeleteRequest: { Key: groupMemberKey(groupId, member) } })),
    ]);
  }

  private async touch(groupId: string, memberCount: number, now: Date): Promise<Group> {
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.groupsTable,
        Key: groupKey(groupId),
        UpdateExpression: 'SET createdAt = if_not_exists(createdAt, :now), updatedAt = :now, memberCount = :count',
        ExpressionAttributeValues: { ':now': now.toISOString(), ':count': memberCount },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toGroup(result.Attributes as GroupItem);
  }
}

function toGroup(item: GroupItem): Group {
  return {
    groupId: item.groupId,
    createdAt: new Date(item.createdAt),
    updatedAt: new Date(item.updatedAt),
    memberCount: item.memberCount,
  };
}
