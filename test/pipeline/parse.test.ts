import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { parse as parseSync } from 'csv-parse/sync';
import {
  KeptBytes,
  MAX_RECORD_BYTES,
  parseCsv,
  type CsvFailure,
  type CsvRecord,
  type ParseOptions,
} from '../../src/pipeline/parse.js';

// `line` is the 1-based line where a record starts; `end` the byte offset just
// past the record and its line break in the input bytes (a BOM counts: it is in the file).
type Expected = { line: number; end?: number; fields: string[] } | { line: number; failure: RegExp };

async function parseAll(
  input: Buffer,
  chunks: number[] | 'bytes',
  delimiter = ',',
  options: Partial<ParseOptions> = {},
): Promise<Array<CsvRecord | CsvFailure>> {
  const cuts = chunks === 'bytes' ? Array.from({ length: input.length }, (_, i) => i + 1) : [...chunks, input.length];
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut > from) parts.push(input.subarray(from, cut));
    from = Math.max(from, cut);
  }
  const out: Array<CsvRecord | CsvFailure> = [];
  for await (const r of parseCsv(Readable.from(parts), { delimiter, ...options })) out.push(r);
  return out;
}

function simplify(results: Array<CsvRecord | CsvFailure>, withEnd: boolean): unknown[] {
  return results.map((r) =>
    r.kind === 'record'
      ? { line: r.line, ...(withEnd ? { end: r.end } : {}), fields: r.fields }
      : { line: r.line, code: r.code },
  );
}

function check(results: Array<CsvRecord | CsvFailure>, expected: Expected[]): void {
  const withEnd = expected.every((e) => !('fields' in e) || e.end !== undefined);
  const want = expected.map((e) =>
    'failure' in e
      ? { line: e.line, code: 'CSV_INVALID' }
      : { line: e.line, ...(withEnd ? { end: e.end } : {}), fields: e.fields },
  );
  assert.deepEqual(simplify(results, withEnd), want);
  results.forEach((r, i) => {
    const e = expected[i];
    if (r.kind === 'failure' && e && 'failure' in e) assert.match(r.message, e.failure);
  });
}

const BOM = '\uFEFF';
interface Case {
  label: string;
  text: string;
  /** Extra chunk boundaries (byte offsets) besides "whole" and "every byte". */
  cuts: number[];
  expected: Expected[];
  delimiter?: string;
  todo?: string;
}

const cases: Case[] = [
  {
    label: 'BOM, CRLF, a quoted delimiter, a 3-byte character',
    text: `${BOM}id,name\r\n1,"a,b"\r\n2,€\r\n`,
    // 1: inside the BOM; 11 and 20: between CR and LF; 24: inside € (bytes 23..25)
    cuts: [1, 3, 11, 20, 24],
    expected: [
      { line: 1, end: 3 + 9, fields: ['id', 'name'] },
      { line: 2, end: 12 + 9, fields: ['1', 'a,b'] },
      { line: 3, end: 21 + 7, fields: ['2', '€'] },
    ],
  },
  {
    label: 'a quoted CRLF inside a field is one line break',
    text: 'id\r\n"a\r\nb"\r\nc\r\n',
    cuts: [6, 11],
    expected: [
      { line: 1, end: 4, fields: ['id'] },
      { line: 2, end: 4 + 8, fields: ['a\r\nb'] },
      { line: 4, end: 12 + 3, fields: ['c'] },
    ],
  },
  {
    label: 'LF, empty lines skipped, no final newline, a 4-byte character',
    text: 'a,b\n\n\nc,😀\n\ne,f',
    cuts: [4, 5, 9, 10, 11],
    expected: [
      { line: 1, end: 4, fields: ['a', 'b'] },
      { line: 4, end: 6 + 7, fields: ['c', '😀'] },
      { line: 6, end: 14 + 3, fields: ['e', 'f'] },
    ],
  },
  {
    label: 'quoted LF newlines and escaped quotes move the start line of later records',
    text: 'h1,h2\n"x\ny\nz","say ""hi"""\nlast,"é\n"\nend,1\n',
    cuts: [7, 9, 33],
    expected: [
      { line: 1, end: 6, fields: ['h1', 'h2'] },
      { line: 2, end: 6 + 21, fields: ['x\ny\nz', 'say "hi"'] },
      { line: 5, end: 27 + 11, fields: ['last', 'é\n'] },
      { line: 7, end: 38 + 6, fields: ['end', '1'] },
    ],
  },
  {
    label: 'tab delimiter, a tab inside quotes',
    text: 'a\tb\n"x\ty"\tz\n',
    delimiter: '\t',
    cuts: [2, 6],
    expected: [
      { line: 1, end: 4, fields: ['a', 'b'] },
      { line: 2, end: 4 + 8, fields: ['x\ty', 'z'] },
    ],
  },
];

describe('parseCsv records', () => {
  for (const c of cases) {
    for (const chunks of [[], c.cuts, 'bytes'] as const) {
      const how =
        chunks === 'bytes' ? 'one byte per chunk' : chunks.length === 0 ? 'one chunk' : `cut at ${chunks.join(',')}`;
      test(`${c.label} (${how})`, c.todo ? { todo: c.todo } : {}, async () => {
        const input = Buffer.from(c.text, 'utf8');
        check(await parseAll(input, chunks === 'bytes' ? 'bytes' : [...chunks], c.delimiter), c.expected);
      });
    }
  }
});

// A broken record never takes later rows with it: the physical line where it starts is reported as
// a failure and parsing resumes on the next line (csv-parse alone, after a quote closed too early,
// would treat the rest of the input as quoted).
const broken: Array<{ label: string; text: string; expected: Expected[]; todo?: string }> = [
  {
    label: 'a quote inside an unquoted field; later records still read',
    text: 'id,v\n1,a"b\n2,ok\n3,fine\n',
    expected: [
      { line: 1, fields: ['id', 'v'] },
      { line: 2, failure: /^Expected a well-formed CSV record: .*\(INVALID_OPENING_QUOTE\); the line was skipped$/ },
      { line: 3, fields: ['2', 'ok'] },
      { line: 4, fields: ['3', 'fine'] },
    ],
  },
  {
    label: 'a broken record spanning lines, then another',
    text: 'h,i\n"a\nb",x"y\nok,1\n2,c"d\nlast,2\n',
    expected: [
      { line: 1, fields: ['h', 'i'] },
      // `"a` starts a record that breaks on line 3: line 2 is rejected, then line 3 (`b",x"y`) on its own.
      { line: 2, failure: /INVALID_OPENING_QUOTE/ },
      { line: 3, failure: /INVALID_OPENING_QUOTE/ },
      { line: 4, fields: ['ok', '1'] },
      { line: 5, failure: /INVALID_OPENING_QUOTE/ },
      { line: 6, fields: ['last', '2'] },
    ],
  },
  {
    label: 'empty lines before a broken record do not shift line numbers',
    text: 'h\n\n\n1,a"b\nok\n\nnext\n',
    expected: [
      { line: 1, fields: ['h'] },
      { line: 4, failure: /INVALID_OPENING_QUOTE/ },
      { line: 5, fields: ['ok'] },
      { line: 7, fields: ['next'] },
    ],
  },
  {
    label: 'a quote never closed: its line is rejected and the rows after it are still read',
    text: 'id,v\n1,ok\n2,"open\n3,x\n',
    expected: [
      { line: 1, fields: ['id', 'v'] },
      { line: 2, fields: ['1', 'ok'] },
      { line: 3, failure: /^Expected a well-formed CSV record: .*\(CSV_QUOTE_NOT_CLOSED\); the line was skipped$/ },
      { line: 4, fields: ['3', 'x'] },
    ],
  },
];

const byLine = <T extends { line: number }>(list: T[]): T[] => [...list].sort((a, b) => a.line - b.line);

const STRICT = { strictQuotes: true };

describe('parseCsv broken records (--strict-quotes)', () => {
  for (const b of broken) {
    for (const chunks of [[], 'bytes'] as const) {
      const how = chunks === 'bytes' ? 'one byte per chunk' : 'one chunk';
      test(`${b.label} (${how}): records and failures by line`, b.todo ? { todo: b.todo } : {}, async () => {
        check(byLine(await parseAll(Buffer.from(b.text), chunks === 'bytes' ? 'bytes' : [], ',', STRICT)), b.expected);
      });
    }
    test(`${b.label}: yielded in input order`, async () => {
      check(await parseAll(Buffer.from(b.text), [], ',', STRICT), b.expected);
    });
  }

  test('a quote closed too early: a failure at its line, the header kept, no exception', async () => {
    const results = await parseAll(Buffer.from('id,v\n1,"a"b\n2,ok\n'), [], ',', STRICT);
    const sorted = byLine(results);
    assert.deepEqual(simplify(sorted.slice(0, 2), false), [
      { line: 1, fields: ['id', 'v'] },
      { line: 2, code: 'CSV_INVALID' },
    ]);
    assert.match((sorted[1] as CsvFailure).message, /CSV_INVALID_CLOSING_QUOTE/);
    assert.ok(results.every((r) => r.kind === 'record' || r.code === 'CSV_INVALID'));
  });

  test('a failure carries the raw text of the broken line (for the rejects file)', async () => {
    const failure = (await parseAll(Buffer.from('id,v\n1,a"b\n2,ok\n'), [], ',', STRICT)).find(
      (r) => r.kind === 'failure',
    );
    assert.equal(typeof failure?.raw, 'string');
    assert.match(failure?.raw ?? '', /1,a"b/);
  });

  test('a stream error ends the parse with that error', async () => {
    const input = new Readable({ read() {} });
    input.push('a,b\n');
    setImmediate(() => input.destroy(Object.assign(new Error('disk gone'), { code: 'EIO' })));
    const seen: unknown[] = [];
    await assert.rejects(
      async () => {
        for await (const r of parseCsv(input, { delimiter: ',' })) seen.push(r);
      },
      { message: 'disk gone' },
    );
  });
});

describe('parseCsv escape', () => {
  // mysqldump --tab / SELECT ... INTO OUTFILE escape a quote with a backslash: "say \"hi\"".
  test('a backslash escape reads mysqldump-style quotes', async () => {
    const text = 'id,quote\n1,"say \\"hi\\""\n2,plain\n';
    const results: Array<CsvRecord | CsvFailure> = [];
    for await (const r of parseCsv(Readable.from([Buffer.from(text)]), { delimiter: ',', escape: '\\' }))
      results.push(r);
    assert.deepEqual(
      results.map((r) => (r.kind === 'record' ? r.fields : r.code)),
      [
        ['id', 'quote'],
        ['1', 'say "hi"'],
        ['2', 'plain'],
      ],
    );
  });

  test('with the default escape and strict quotes the same line is a broken record, and the next line is still read', async () => {
    const text = 'id,quote\n1,"say \\"hi\\""\n2,plain\n';
    const results: Array<CsvRecord | CsvFailure> = [];
    for await (const r of parseCsv(Readable.from([Buffer.from(text)]), { delimiter: ',', strictQuotes: true }))
      results.push(r);
    assert.deepEqual(
      results.map((r) => [r.line, r.kind === 'record' ? r.fields : r.code]),
      [
        [1, ['id', 'quote']],
        [2, 'CSV_INVALID'],
        [3, ['2', 'plain']],
      ],
    );
  });
});

describe('parseCsv lenient quotes (the default)', () => {
  // Python's csv, pandas and papaparse read these as data; so does dynaload unless --strict-quotes.
  const lenient: Array<{ label: string; text: string; fields: string[][] }> = [
    {
      label: 'a quote inside an unquoted field (coordinates)',
      text: `id,at\n1,37°36'37.8"N\n2,ok\n`,
      fields: [
        ['id', 'at'],
        ['1', `37°36'37.8"N`],
        ['2', 'ok'],
      ],
    },
    {
      label: 'inches in the middle of a field',
      text: 'id,size\n1,a 5" disk\n',
      fields: [
        ['id', 'size'],
        ['1', 'a 5" disk'],
      ],
    },
    {
      label: 'text after a closing quote is kept as written',
      text: 'id,v\n1,"a"b\n2,"x, y"\n',
      fields: [
        ['id', 'v'],
        ['1', '"a"b'],
        ['2', 'x, y'],
      ],
    },
    {
      label: 'quoted fields still read as RFC 4180 says',
      text: 'id,v\n1,"say ""hi"", ok"\n2,"two\nlines"\n',
      fields: [
        ['id', 'v'],
        ['1', 'say "hi", ok'],
        ['2', 'two\nlines'],
      ],
    },
  ];
  for (const c of lenient) {
    for (const chunks of [[], 'bytes'] as const) {
      test(`${c.label} (${chunks === 'bytes' ? 'one byte per chunk' : 'one chunk'})`, async () => {
        const results = await parseAll(Buffer.from(c.text), chunks === 'bytes' ? 'bytes' : []);
        assert.deepEqual(
          results.map((r) => (r.kind === 'record' ? r.fields : r.code)),
          c.fields,
        );
      });
    }
  }

  test('--strict-quotes rejects the coordinates line and reads the next', async () => {
    const results = await parseAll(Buffer.from(`id,at\n1,37°36'37.8"N\n2,ok\n`), [], ',', STRICT);
    assert.deepEqual(
      results.map((r) => [r.line, r.kind === 'record' ? r.fields : r.code]),
      [
        [1, ['id', 'at']],
        [2, 'CSV_INVALID'],
        [3, ['2', 'ok']],
      ],
    );
  });
});

describe('parseCsv without quoting (TSV)', () => {
  test('a quote is data, a quoted-looking field keeps its quotes, a tab inside quotes still splits', async () => {
    const results = await parseAll(Buffer.from('id\tv\n1\t"a"\n2\t5" disk\n3\t"x\ty"\n'), [], '\t', { quote: false });
    assert.deepEqual(
      results.map((r) => (r.kind === 'record' ? r.fields : r.code)),
      [
        ['id', 'v'],
        ['1', '"a"'],
        ['2', '5" disk'],
        ['3', '"x', 'y"'],
      ],
    );
  });
});

describe('parseCsv bytes that are not UTF-8', () => {
  const text = Buffer.concat([
    Buffer.from('id,v\n1,caf'),
    Buffer.from([0xe9]),
    Buffer.from('\n2,"multi\nli'),
    Buffer.from([0xff]),
    Buffer.from('ne"\n3,café\n'),
  ]);
  for (const chunks of [[], 'bytes', [12, 13]] as const) {
    test(`each record holding one is an ENCODING_INVALID failure with line, column and offset; valid rows around it read (${chunks === 'bytes' ? 'one byte per chunk' : `cut at ${chunks.join(',') || 'nothing'}`})`, async () => {
      const results = await parseAll(text, chunks === 'bytes' ? 'bytes' : [...chunks]);
      assert.deepEqual(
        results.map((r) => [r.line, r.kind === 'record' ? r.fields : r.code]),
        [
          [1, ['id', 'v']],
          [2, 'ENCODING_INVALID'],
          [3, 'ENCODING_INVALID'],
          [5, ['3', 'café']],
        ],
      );
      const [first, second] = results.filter((r): r is CsvFailure => r.kind === 'failure');
      assert.equal(first?.offset, 10);
      assert.equal(first?.raw, '1,caf\\xE9');
      assert.match(
        first?.message ?? '',
        /^Expected UTF-8 text, got the byte 0xE9 at line 2, column 6 \(byte offset 10\); the row was skipped, nothing replaced/,
      );
      assert.equal(second?.offset, 23);
      assert.match(second?.message ?? '', /byte 0xFF at line 4, column 3 \(byte offset 23\)/);
      assert.equal(second?.raw, '2,"multi\nli\\xFFne"');
    });
  }

  test('a UTF-8 character split across chunks is not a failure', async () => {
    const results = await parseAll(Buffer.from('id\ncafé\n'), [7]);
    assert.deepEqual(
      results.map((r) => (r.kind === 'record' ? r.fields : r.code)),
      [['id'], ['café']],
    );
  });

  test('a UTF-8 byte order mark is dropped before the header, but only at the start of the input', async () => {
    const results = await parseAll(Buffer.from('\uFEFFid\n\uFEFFx\n'), 'bytes');
    assert.deepEqual(
      results.map((r) => (r.kind === 'record' ? [r.end, r.fields] : r.code)),
      [
        [6, ['id']],
        [11, ['\uFEFFx']],
      ],
    );
  });
});

describe('parseCsv records past the cap', () => {
  const long = 'x'.repeat(MAX_RECORD_BYTES + 5);
  for (const [name, text] of [
    ['unquoted', `id,v\n1,${long}\n2,ok\n`],
    ['an unclosed quote', `id,v\n1,"${long}\n2,ok\n`],
    ['CRLF, at the end', `id,v\r\n1,${long}\r\n`],
  ] as const) {
    test(`${name}: one RECORD_TOO_LONG failure with the first 1000 characters, the length and SHA-256 of the whole line`, async () => {
      const input = Buffer.from(text);
      const results = await parseAll(
        input,
        Array.from({ length: Math.ceil(input.length / 65536) }, (_, i) => i * 65536),
      );
      const failure = results.find((r): r is CsvFailure => r.kind === 'failure');
      const line = text.split(/\r?\n/)[1] as string;
      assert.equal(failure?.code, 'RECORD_TOO_LONG');
      assert.equal(failure?.line, 2);
      assert.equal(failure?.raw, line.slice(0, 1000));
      assert.equal(failure?.length, line.length);
      assert.equal(failure?.sha256, createHash('sha256').update(line).digest('hex'));
      assert.equal(failure?.end, text.indexOf('\n', 10) + 1);
      const after = results.filter((r) => r.kind === 'record').map((r) => (r as CsvRecord).fields);
      assert.deepEqual(
        after,
        name === 'CRLF, at the end'
          ? [['id', 'v']]
          : [
              ['id', 'v'],
              ['2', 'ok'],
            ],
      );
    });
  }
});

describe('KeptBytes (the bytes from the last record on, and a new read)', () => {
  test('gives what concatenation gives, and never changes a view it gave before', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 40 })), { maxLength: 60 }), (steps) => {
        const kept = new KeptBytes();
        let view: Buffer = Buffer.alloc(0);
        let expected = Buffer.alloc(0);
        const earlier: [Buffer, Buffer][] = [];
        for (const [drop, bytes] of steps) {
          const chunk = Buffer.from(bytes);
          const keepFrom = drop % (view.length + 1);
          view = kept.append(view, keepFrom, chunk);
          expected = Buffer.concat([expected.subarray(keepFrom), chunk]);
          assert.deepEqual(view, expected);
          earlier.push([view, Buffer.from(view)]);
        }
        for (const [given, copy] of earlier) assert.deepEqual(given, copy);
      }),
    );
  });

  test('a record as long as 256 reads is copied a few times over, not once per read', () => {
    const kept = new KeptBytes();
    const read = Buffer.alloc(16 * 1024, 'x');
    let view: Buffer = Buffer.from('id,v\n');
    // Each read ends inside the record: everything from its start is kept.
    for (let n = 0; n < 256; n++) view = kept.append(view, n === 0 ? 5 : 0, read);
    assert.equal(view.length, 256 * read.length);
    // A concatenation per read copies about 128 times the record's length.
    assert.ok(kept.copied < 3 * view.length, `copied ${kept.copied} bytes for a record of ${view.length}`);
  });
});

describe('fields as csv-parse decodes them', () => {
  // parseCsv decodes each field from csv-parse's own buffer without a Buffer view per field; the
  // text must stay exactly what csv-parse's decoding gives (its sync API, a parser of its own).
  const cell = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
  const quoted = (text: string): string => `"${text.replaceAll('"', '""')}"`;

  test('every field is the text csv-parse gives, whatever the characters and where the reads cut them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (rows, cuts) => {
          const input = Buffer.from(`${rows.map((row) => row.map(quoted).join(',')).join('\n')}\n`, 'utf8');
          const expected = parseSync(input, {
            relax_column_count: true,
            relax_quotes: true,
            skip_empty_lines: true,
            record_delimiter: ['\r\n', '\n', '\r'],
          }) as string[][];
          const results = await parseAll(
            input,
            cuts.map((n) => n % (input.length + 1)).sort((a, b) => a - b),
          );
          assert.deepEqual(
            results.map((r) => (r.kind === 'record' ? r.fields : r.message)),
            expected,
          );
          assert.deepEqual(
            expected,
            rows.map((row) => row.map((text) => Buffer.from(text, 'utf8').toString('utf8'))),
          );
        },
      ),
    );
  });

  test('no Buffer view is made per field', async () => {
    const rows = 500;
    const input = Buffer.from(Array.from({ length: rows }, (_, i) => `${i},name ${i},"x, ${i}",é${i}\n`).join(''));
    const slice = Buffer.prototype.slice;
    let views = 0;
    Buffer.prototype.slice = function (this: Buffer, ...args: Parameters<Buffer['slice']>): Buffer {
      views++;
      return slice.apply(this, args);
    };
    try {
      const results = await parseAll(input, [4096, 8192]);
      assert.equal(results.length, rows);
      assert.deepEqual((results[7] as CsvRecord).fields, ['7', 'name 7', 'x, 7', 'é7']);
    } finally {
      Buffer.prototype.slice = slice;
    }
    // csv-parse's own decoding made one per field: four per row here.
    assert.ok(views < rows, `${views} Buffer views for ${rows * 4} fields`);
  });
});
