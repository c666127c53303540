import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { RoomMember, RoomStore } from '../conversations/chatrooms';
import { queryAll } from './query';
import { roomMemberKey, roomMembersTable } from '../tables';

const [byConnection] = roomMembersTable.globalIndexes;

export class DynamoRoomStore implements RoomStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async join(roomId: string, member: RoomMember, expiresAt: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...roomMemberKey(roomId, member.connectionId), userId: member.userId, expiresAt: epochSeconds(expiresAt) },
      }),
    );
  }

  async leave(roomId: string, connectionId: string): Promise<boolean> {
    const result = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: roomMemberKey(roomId, connectionId), ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes !== undefined;
  }

  async isMember(roomId: string, connectionId: string, now: Date): Promise<boolean> {
    // Strongly consistent: a connection that has just joined may speak at once.
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: roomMemberKey(roomId, connectionId), ConsistentRead: true }));
    return result.Item !== undefined && (result.Item.expiresAt as number) > epochSeconds(now);
  }

  async members(roomId: string, now: Date): Promise<RoomMember[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      // Strongly consistent: who has just joined hears the next message, and who has just left does not.
      ConsistentRead: true,
      KeyConditionExpression: '#room = :room',
      // A membership whose connection has passed API Gateway's two hours is over.
      FilterExpression: '#expires > :now',
      ExpressionAttributeNames: { '#room': roomMembersTable.partitionKey, '#expires': roomMembersTable.timeToLiveAttribute },
      ExpressionAttributeValues: { ':room': roomId, ':now': epochSeconds(now) },
    });
    return items.map((item) => ({ userId: item.userId as string, connectionId: item.connectionId as string }));
  }

  async roomsOf(connectionId: string): Promise<string[]> {
    const rooms = (await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: byConnection.indexName,
      KeyConditionExpression: '#connection = :connection',
      ExpressionAttributeNames: { '#connection': byConnection.partitionKey },
      ExpressionAttributeValues: { ':connection': connectionId },
    })).map((item) => item.roomId as string);
    return rooms;
  }
}
