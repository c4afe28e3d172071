import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { assertExit, assertTable, N, S, upload, useDynalite, type Item } from './helpers.js';

// `--infer` end to end. A cell becomes N only when DynamoDB gives the same text
// back and BOOL only for `true`/`false`; `--types` and the key schema still decide their columns.

const db = useDynalite();

const CELLS: [cell: string, expected: Item[string]][] = [
  ['00123', S('00123')],
  ['1e5', S('1e5')],
  ['+7', S('+7')],
  ['1.50', S('1.50')],
  ['-0', S('-0')],
  ['12345678901234567890123456789012345678901', S('12345678901234567890123456789012345678901')],
  ['0', N('0')],
  ['-12.5', N('-12.5')],
  ['12345678901234567890', N('12345678901234567890')],
  ['true', { BOOL: true }],
  ['false', { BOOL: false }],
  ['TRUE', S('TRUE')],
];

describe('--infer (end to end)', () => {
  it('infers N and BOOL only where the value is kept exactly; keys follow the table, --types wins', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    // One row per cell, in column v; the key `id` is a number-looking S key; `t` is declared S.
    const lines = ['id,v,t'];
    const expected: Item[] = [];
    CELLS.forEach(([cell, value], i) => {
      lines.push(`${100 + i},${cell},${cell}`);
      expected.push({ id: S(String(100 + i)), v: value as Item[string], t: S(cell) });
    });
    const file = path.join(dir, 'cells.csv');
    await writeFile(file, lines.join('\n') + '\n');
    const run = await upload(db.endpoint, [file, '--table', table, '--infer', '--types', 't:S'], { cwd: dir });
    assertExit(run, 0);
    assert.equal(run.summary.written, CELLS.length);
    assert.equal(run.summary.rejected, 0, 'inference rejects nothing');
    await assertTable(db.endpoint, table, expected, 'id');
    // Inference decides per cell: the column given several types is named, with counts and examples.
    const warnings = run.stderr.split('\n').filter((line) => line.includes('--infer decides per cell'));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(
      warnings[0] ?? '',
      /column `v` was written as S in 7 \(e\.g\. `00123`\), N in 3 \(e\.g\. `0`\), BOOL in 2 \(e\.g\. `true`\)/,
    );
    assert.match(warnings[0] ?? '', /`--types v:S`/);
  });

  it('a column whose cells all infer alike draws no warning', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'cells.csv');
    await writeFile(file, 'id,n,b,s\na,1,true,x\nb,2.5,false,00123\n');
    const run = await upload(db.endpoint, [file, '--table', table, '--infer'], { cwd: dir });
    assertExit(run, 0);
    assert.doesNotMatch(run.stderr, /--infer decides per cell/);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('a'), n: N(1), b: { BOOL: true }, s: S('x') },
        { id: S('b'), n: N('2.5'), b: { BOOL: false }, s: S('00123') },
      ],
      'id',
    );
  });
});
