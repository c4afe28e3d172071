/**
 * fast-check inputs for the read path's properties: random bytes, and valid CSV, TSV, NDJSON and
 * DynamoDB JSON with mutations of the kinds real files carry (a Latin-1 byte, a stray quote, a
 * byte order mark, a cut, a CR, a lost byte), sometimes gzipped, sometimes in another encoding.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Encoding } from '../../src/pipeline/encoding.js';
import type { InputFormat } from '../../src/pipeline/formats.js';

/** Runs for a property: `fallback` in `npm test`, DYNALOAD_PROPERTY_RUNS for a longer search. */
export function propertyRuns(fallback: number): number {
  const runs = Number(process.env.DYNALOAD_PROPERTY_RUNS);
  return Number.isSafeInteger(runs) && runs > 0 ? runs : fallback;
}

/**
 * The seed of a property run: `npm test` replays a fixed one, so the gate fails only when the code
 * does; a longer run (`DYNALOAD_PROPERTY_RUNS`) explores fresh ones, and `DYNALOAD_PROPERTY_SEED`
 * replays the seed a failure printed.
 */
export function propertySeed(): { seed?: number } {
  const seed = Number(process.env.DYNALOAD_PROPERTY_SEED);
  if (process.env.DYNALOAD_PROPERTY_SEED !== undefined && Number.isSafeInteger(seed)) return { seed };
  return process.env.DYNALOAD_PROPERTY_RUNS === undefined ? { seed: 20_261_202 } : {};
}

export interface HostileInput {
  readonly bytes: Buffer;
  readonly format: InputFormat;
  readonly encoding: Encoding;
  readonly strictQuotes: boolean;
}

/** Text with what breaks readers: quotes, delimiters, line breaks, non-ASCII, a U+FFFD now and then. */
const cell = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom(
    '',
    '"',
    'a"b',
    '"q"',
    '37°36\'37.8"N',
    'x,y',
    'line\nbreak',
    'cr\r\nlf',
    '\t',
    'é€😀',
    '\uFFFD',
    '12345678901234567890',
    '00123',
  ),
);

const rows = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), cell, cell), { maxLength: 12 });

const quoteCsv = (text: string, delimiter: string): string =>
  /[",\r\n\t]/.test(text) || text.includes(delimiter) ? `"${text.replaceAll('"', '""')}"` : text;

const csv = rows.map(
  (list) => ['id,a,b', ...list.map((r) => r.map((c) => quoteCsv(c, ',')).join(','))].join('\n') + '\n',
);
const tsv = rows.map(
  (list) => ['id\ta\tb', ...list.map((r) => r.map((c) => c.replace(/[\t\r\n]/g, ' ')).join('\t'))].join('\n') + '\n',
);
const ndjson = rows.map((list) => list.map(([id, a, b]) => JSON.stringify({ id, a, b })).join('\n') + '\n');
const ddbJson = fc
  .array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), cell, fc.uint8Array({ maxLength: 6 }), fc.integer()), {
    maxLength: 10,
  })
  .map(
    (list) =>
      list
        .map(([id, a, b, n]) =>
          JSON.stringify({
            Item: { id: { S: id }, a: { S: a }, b: { B: Buffer.from(b).toString('base64') }, n: { N: String(n) } },
          }),
        )
        .join('\n') + '\n',
  );

type Mutation = (bytes: Buffer, at: number, value: number) => Buffer;
const insert = (bytes: Buffer, at: number, add: number[]): Buffer =>
  Buffer.concat([bytes.subarray(0, at), Buffer.from(add), bytes.subarray(at)]);
const MUTATIONS: Mutation[] = [
  (b, at) => insert(b, at, [0xe9]), // a Latin-1 é
  (b, at) => insert(b, at, [0x22]), // a stray quote
  (b, at) => insert(b, at, [0x0d]), // a lone CR
  (b, at) => insert(b, at, [0xef, 0xbb, 0xbf]), // a BOM, anywhere
  (b, at) => insert(b, at, [0xed, 0xa0, 0x80]), // a surrogate written as UTF-8
  (b, at) => insert(b, at, [0x2c]), // a delimiter
  (b, at) => insert(b, at, [0x0a]), // a line break
  (b, at) => Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]), // a lost byte
  (b, at) => b.subarray(0, at), // a cut file
  (b, at, v) => Buffer.from(b.map((x, i) => (i === at ? v : x))), // a changed byte
];

const mutated = (source: fc.Arbitrary<string>): fc.Arbitrary<Buffer> =>
  fc
    .tuple(source, fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), fc.nat(255)), { maxLength: 4 }))
    .map(([text, changes]) => {
      let bytes: Buffer = Buffer.from(text);
      for (const [kind, at, value] of changes)
        bytes = (MUTATIONS[kind] as Mutation)(bytes, bytes.length === 0 ? 0 : at % bytes.length, value);
      return bytes;
    });

const SOURCES: Record<string, fc.Arbitrary<string>> = { csv, tsv, ndjson, 'ddb-json': ddbJson };

/** An input and how to read it; `only` keeps to one format. */
export function hostileInput(only?: InputFormat): fc.Arbitrary<HostileInput> {
  const format: fc.Arbitrary<InputFormat> =
    only === undefined ? fc.constantFrom('csv', 'tsv', 'ndjson', 'ddb-json') : fc.constant(only);
  return format.chain((f) =>
    fc.record({
      bytes: fc
        .oneof(
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)) },
          { weight: 4, arbitrary: mutated(SOURCES[f] as fc.Arbitrary<string>) },
        )
        .chain((bytes) =>
          only !== undefined
            ? fc.constant(bytes)
            : fc.constantFrom(
                bytes,
                bytes,
                bytes,
                gzipSync(bytes),
                gzipSync(bytes).subarray(0, Math.max(2, bytes.length >> 1)),
              ),
        ),
      format: fc.constant(f),
      encoding:
        only !== undefined
          ? fc.constant<Encoding>('utf-8')
          : fc.constantFrom<Encoding>('utf-8', 'utf-8', 'utf-8', 'windows-1252', 'utf-16le'),
      strictQuotes: fc.boolean(),
    }),
  );
}
