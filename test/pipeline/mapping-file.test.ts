import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DynaloadError } from '../../src/errors.js';
import { compileRules, compileTemplate, parseMappingFile, type TableRules } from '../../src/pipeline/mapping-file.js';

// README "Mapping files": only, drop, rename, set (templates, `$$`, constants), types, empty.

const SOURCE = 'm.json';

function invalid(json: unknown, message: RegExp, table: string | undefined): void {
  assert.throws(
    () => parseMappingFile(json, table, SOURCE),
    (error: DynaloadError) => {
      assert.equal(error.code, 'MAP_INVALID');
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^m\.json: /);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('parseMappingFile', () => {
  test('single-table rules go to --table; `tables` fans out; type names are upper-cased', () => {
    assert.deepEqual(parseMappingFile({ drop: ['x'], types: { n: 'n' } }, 'T', SOURCE), {
      T: { drop: ['x'], types: { n: 'N' } },
    });
    assert.deepEqual(parseMappingFile({ tables: { a: {}, b: { empty: 'null', only: ['k'] } } }, undefined, SOURCE), {
      a: {},
      b: { empty: 'null', only: ['k'] },
    });
  });

  const cases: [label: string, json: unknown, message: RegExp, withoutTable?: true][] = [
    ['a string', 'x', /Expected a JSON object, got string/],
    ['an array', [], /Expected a JSON object, got an array/],
    ['null', null, /Expected a JSON object/],
    ['rules without --table', { drop: [] }, /`--table`/, true],
    ['an empty tables object', { tables: {} }, /`tables`.*at least one table/],
    ['tables as an array', { tables: [{}] }, /`tables`/],
    ['rules that are not an object', { tables: { a: 1 } }, /`tables\.a`.*number/],
    ['an unknown rule', { tables: { a: { rename: {}, rname: {} } } }, /`tables\.a\.rname`/],
    ['only as a string', { only: 'a' }, /`tables\.T\.only` to be an array of column names/],
    ['drop with a number', { drop: ['a', 1] }, /`tables\.T\.drop` to be an array of column names/],
    ['rename as an array', { rename: ['a'] }, /`tables\.T\.rename`.*attribute names/],
    ['rename to an empty name', { rename: { a: '' } }, /`tables\.T\.rename`/],
    ['rename to a number', { rename: { a: 1 } }, /`tables\.T\.rename`/],
    ['an unknown type', { types: { a: 'INT' } }, /`tables\.T\.types`/],
    ['a type that is not a string', { types: { a: 1 } }, /`tables\.T\.types`/],
    ['set as an array', { set: [] }, /`tables\.T\.set`/],
    ['an unclosed template', { set: { sk: 'a${b' } }, /`tables\.T\.set\.sk`/],
    ['an empty template column', { set: { sk: '${}' } }, /`tables\.T\.set\.sk`/],
    ['a constant number past 2^53', { set: { n: 2 ** 64 } }, /`tables\.T\.set\.n`.*2\^53/],
    ['a constant nested 33 deep', { set: { n: deep(33) } }, /`tables\.T\.set\.n`/],
    ['an unknown empty policy', { empty: 'zero' }, /`tables\.T\.empty`.*zero/],
  ];
  for (const [label, json, message, withoutTable] of cases) {
    test(`MAP_INVALID: ${label}`, () => invalid(json, message, withoutTable ? undefined : 'T'));
  }
});

function deep(levels: number): unknown {
  return levels === 0 ? 1 : [deep(levels - 1)];
}

describe('compileTemplate', () => {
  const fail = (why: string): never => {
    throw new Error(why);
  };
  test('columns and literals, `$$` for a literal `$`, a lone `$` kept', () => {
    assert.deepEqual(compileTemplate('${series}#${episode}', fail), [{ column: 'series' }, '#', { column: 'episode' }]);
    assert.deepEqual(compileTemplate('$$${a}$$', fail), ['$', { column: 'a' }, '$']);
    assert.deepEqual(compileTemplate('cost $5', fail), ['cost $5']);
    assert.deepEqual(compileTemplate('', fail), []);
  });
  test('an unclosed or empty `${` fails', () => {
    assert.throws(() => compileTemplate('a${b', fail));
    assert.throws(() => compileTemplate('${}', fail));
  });
});

describe('compileRules', () => {
  const COLUMNS = ['user', 'series', 'episode', 'title', 'secret'];
  const ROW = { user: '7', series: '77', episode: '3', title: 'Pilot', secret: 'pw' };
  const compile = (rules: TableRules, options: { empty?: 'drop' | 'string' | 'null'; infer?: boolean } = {}) =>
    compileRules(rules, COLUMNS, {
      empty: options.empty ?? 'drop',
      infer: options.infer ?? false,
      source: 'the header of a.csv',
    });

  test('no rules: every column as S', () => {
    assert.deepEqual(compile({})(ROW), {
      user: { S: '7' },
      series: { S: '77' },
      episode: { S: '3' },
      title: { S: 'Pilot' },
      secret: { S: 'pw' },
    });
  });

  test('only, drop, rename, types (by the final name), set', () => {
    const map = compile({
      only: ['user', 'title', 'secret'],
      drop: ['secret'],
      rename: { user: 'pk', title: 'name', secret: 'never' },
      set: { sk: '${series}#${episode}', v: 2, tags: ['a'], ok: true, none: null, price: '$$${episode}' },
      types: { pk: 'N', sk: 'S', price: 'S' },
    });
    assert.deepEqual(map(ROW), {
      pk: { N: '7' },
      name: { S: 'Pilot' },
      sk: { S: '77#3' },
      v: { N: '2' },
      tags: { L: [{ S: 'a' }] },
      ok: { BOOL: true },
      none: { NULL: true },
      price: { S: '$3' },
    });
  });

  test('a template result is typed by `types` too', () => {
    assert.deepEqual(compile({ only: [], set: { n: '${user}${episode}' }, types: { n: 'N' } })(ROW), {
      n: { N: '73' },
    });
  });

  test("empty cells: the rule's policy, else the option", () => {
    const row = { ...ROW, title: '' };
    assert.equal(compile({ empty: 'drop' }, { empty: 'null' })(row).title, undefined);
    assert.deepEqual(compile({ empty: 'string' })(row).title, { S: '' });
    assert.deepEqual(compile({ empty: 'null' })(row).title, { NULL: true });
    assert.deepEqual(compile({}, { empty: 'null' })(row).title, { NULL: true });
    assert.equal(compile({})(row).title, undefined);
  });

  test('--infer for columns without a type; a declared type wins', () => {
    const map = compile({ types: { series: 'S' } }, { infer: true });
    const item = map({ ...ROW, user: '00123', title: 'true' });
    assert.deepEqual(item.user, { S: '00123' });
    assert.deepEqual(item.series, { S: '77' });
    assert.deepEqual(item.episode, { N: '3' });
    assert.deepEqual(item.title, { BOOL: true });
  });

  test('a template over an empty cell throws TEMPLATE_EMPTY naming the attribute and column', () => {
    const map = compile({ set: { sk: '${series}#${episode}' } });
    assert.throws(
      () => map({ ...ROW, episode: '' }),
      (error: DynaloadError) => {
        assert.equal(error.code, 'TEMPLATE_EMPTY');
        assert.equal(error.context.column, 'episode');
        assert.match(error.message, /`sk`.*`episode`.*empty cell/);
        return true;
      },
    );
  });

  test('a value that cannot have its type throws with the attribute named', () => {
    const map = compile({ rename: { episode: 'ep' }, types: { ep: 'N' } });
    assert.throws(
      () => map({ ...ROW, episode: 'three' }),
      (error: DynaloadError) => {
        assert.equal(error.code, 'NUMBER_INVALID');
        assert.equal(error.context.column, 'ep');
        assert.match(error.message, /^Attribute `ep`: /);
        return true;
      },
    );
  });

  test('a template over a column the file lacks: MAP_COLUMN_MISSING when compiled, naming the file', () => {
    assert.throws(
      () => compile({ set: { sk: '${season}' } }),
      (error: DynaloadError) => {
        assert.equal(error.code, 'MAP_COLUMN_MISSING');
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /the header of a\.csv.*`season`.*set\.sk/);
        return true;
      },
    );
  });

  test('typed values (NDJSON) are kept as they are; templates use their text', () => {
    const map = compileRules(
      { rename: { n: 'pk' }, set: { sk: '${n}-${b}-${s}' }, types: { pk: 'S' } },
      ['n', 'b', 's', 'l'],
      { empty: 'drop', infer: false, source: 'x' },
    );
    const item = map({ n: { N: '12345678901234567890' }, b: { BOOL: true }, s: { S: 'a' }, l: { L: [] } });
    assert.deepEqual(item, {
      pk: { N: '12345678901234567890' },
      b: { BOOL: true },
      s: { S: 'a' },
      l: { L: [] },
      sk: { S: '12345678901234567890-true-a' },
    });
  });

  test('a template over a typed value that is not text (a list) is TEMPLATE_EMPTY', () => {
    const map = compileRules({ set: { sk: '${l}' } }, ['l'], { empty: 'drop', infer: false, source: 'x' });
    assert.throws(() => map({ l: { L: [] } }), { code: 'TEMPLATE_EMPTY' });
  });
});
