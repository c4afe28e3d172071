import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LOG_GROUP, logGroupName, parseImportLogMessage } from '../../src/import/import-logs.js';

const ARN = 'arn:aws:dynamodb:us-east-1:111122223333:table/T/import/01668932222494-b0d5d4e7';

describe('import error log events', () => {
  it('reads the documented event: the object, the item index and the messages', () => {
    const message = JSON.stringify({
      itemS3Pointer: { bucket: 'b', key: 'p/data-00001.json.gz', itemIndex: 10 },
      importArn: ARN,
      errorMessages: ['One or more parameter values were invalid'],
    });
    assert.deepEqual(parseImportLogMessage(message, ARN), {
      bucket: 'b',
      key: 'p/data-00001.json.gz',
      itemIndex: 10,
      messages: ['One or more parameter values were invalid'],
    });
  });

  it('ignores events of another import, without a pointer, or not JSON', () => {
    assert.equal(
      parseImportLogMessage(
        JSON.stringify({ itemS3Pointer: { bucket: 'b', key: 'k', itemIndex: 1 }, importArn: `${ARN}x` }),
        ARN,
      ),
      undefined,
    );
    assert.equal(parseImportLogMessage(JSON.stringify({ importArn: ARN, errorMessages: ['x'] }), ARN), undefined);
    assert.equal(parseImportLogMessage('Import started', ARN), undefined);
  });

  it("takes the log group from the import's CloudWatchLogGroupArn, else the documented default", () => {
    assert.equal(
      logGroupName('arn:aws:logs:us-east-1:111122223333:log-group:/aws-dynamodb/imports:*'),
      '/aws-dynamodb/imports',
    );
    assert.equal(logGroupName('arn:aws:logs:us-east-1:111122223333:log-group:/custom/group'), '/custom/group');
    assert.equal(logGroupName(undefined), DEFAULT_LOG_GROUP);
  });
});
