import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2, type ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tables, type TableDeclaration } from '../lib/tables';

/** The service's tables, built from the shared declarations in lib/tables.ts. */
export class ServiceTables extends Construct {
  private readonly byName = new Map<string, TableV2>();

  constructor(scope: Construct, id: string) {
    super(scope, id);
    for (const declaration of tables) {
      const key = (name: string) => ({ name, type: AttributeType.STRING });
      const table = new TableV2(this, declaration.name, {
        partitionKey: key(declaration.partitionKey),
        ...(declaration.sortKey && { sortKey: key(declaration.sortKey) }),
        globalSecondaryIndexes: declaration.globalIndexes?.map((index) => ({
          indexName: index.indexName,
          partitionKey: key(index.partitionKey),
          ...(index.sortKey && { sortKey: key(index.sortKey) }),
        })),
        billing: Billing.onDemand(),
        ...(declaration.timeToLiveAttribute && { timeToLiveAttribute: declaration.timeToLiveAttribute }),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // Messages outlive the stack: deleting it must never delete what users have not yet received.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.byName.set(declaration.name, table);
    }
  }

  /** Every table, by its declared name. */
  entries(): Array<[string, ITableV2]> {
    return [...this.byName];
  }

  get(declaration: TableDeclaration): ITableV2 {
    const table = this.byName.get(declaration.name);
    if (!table) throw new Error(`table ${declaration.name} is not declared in lib/tables.ts`);
    return table;
  }
}
