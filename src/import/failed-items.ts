import type { DynamoDBClient, ImportTableDescription } from '@aws-sdk/client-dynamodb';
import type { RejectRecord } from '../rejects.js';
import { logGroupName, readImportErrors } from './import-logs.js';
import { readIndex, type StagedTable, type StageLocation } from './stage.js';

/** The reason code of an item DynamoDB's import engine refused. */
export const DYNAMODB_REJECTED = 'DYNAMODB_REJECTED';

export type MappedErrors =
  { readonly ok: true; readonly rejects: RejectRecord[] } | { readonly ok: false; readonly reason: string };

/**
 * The items a COMPLETED import could not import, as rejects: each error event's object and item
 * index, looked up in the local index, gives the input file and line. `itemIndex` is read as the
 * 0-based line of the item in its object (the documentation's example does not say; README notes it).
 */
export async function importErrorRejects(
  client: DynamoDBClient,
  options: {
    staged: StagedTable;
    stage: StageLocation;
    description: ImportTableDescription;
    logsEndpoint: string | undefined;
  },
): Promise<MappedErrors> {
  const { staged, description } = options;
  const logs = await readImportErrors(client, {
    importArn: description.ImportArn as string,
    logGroupArn: description.CloudWatchLogGroupArn,
    endpoint: options.logsEndpoint,
    startTime: description.StartTime === undefined ? undefined : new Date(description.StartTime).getTime(),
  });
  if (!logs.ok) return logs;
  const index = await readIndex(staged.indexFile);
  const rejects: RejectRecord[] = [];
  const seen = new Set<string>();
  for (const event of logs.events) {
    if (event.bucket !== options.stage.bucket || !event.key.startsWith(index.keyPrefix)) continue;
    const name = event.key.slice(index.keyPrefix.length);
    const origin = index.objects.get(name)?.[event.itemIndex];
    // An event repeated (a retried log delivery) names the same item once.
    const id = `${name}\u0000${event.itemIndex}`;
    if (origin === undefined || seen.has(id)) continue;
    seen.add(id);
    rejects.push({
      file: index.files[origin[0]] as string,
      line: origin[1],
      code: DYNAMODB_REJECTED,
      message: `DynamoDB's import did not import the item (s3://${event.bucket}/${event.key}, item ${event.itemIndex}): ${event.messages.join('; ') || 'no message'}`,
      table: staged.table,
      row: null,
    });
  }
  return { ok: true, rejects };
}

/** How to read the error log by hand, and map it back with the index. */
export function logsHint(description: ImportTableDescription, staged: StagedTable): string {
  return (
    `Read them with: aws logs filter-log-events --log-group-name ${logGroupName(description.CloudWatchLogGroupArn)} --filter-pattern '"${description.ImportArn ?? ''}"' ; ` +
    `each event's itemS3Pointer (key, itemIndex) is a line of ${staged.indexFile} (after the "@object" line: "file-number<TAB>line", files listed in its first line)`
  );
}
