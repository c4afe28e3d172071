import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_PRICE_PER_MILLION_WRU,
  estimate,
  formatDryRun,
  formatUsd,
  type EstimateInput,
} from '../src/estimate.js';

const base: EstimateInput = {
  writeUnits: 0,
  items: 0,
  rows: 0,
  rejected: 0,
  itemsPerTable: {},
  pricePerMillionWru: DEFAULT_PRICE_PER_MILLION_WRU,
};

describe('estimate', () => {
  test('the default price is USD 0.625 per million write request units (us-east-1, since November 2024)', () => {
    assert.equal(DEFAULT_PRICE_PER_MILLION_WRU, 0.625);
  });

  const cases: Array<[label: string, input: Partial<EstimateInput>, expected: Record<string, number>]> = [
    ['nothing to write', {}, { writeUnits: 0, estimatedCostUsd: 0 }],
    ['one million units', { writeUnits: 1_000_000 }, { writeUnits: 1_000_000, estimatedCostUsd: 0.625 }],
    ['one unit rounds to a millionth of a dollar', { writeUnits: 1 }, { writeUnits: 1, estimatedCostUsd: 0.000001 }],
    ['no float noise', { writeUnits: 104_321 }, { writeUnits: 104_321, estimatedCostUsd: 0.065201 }],
    [
      'the old price',
      { writeUnits: 3_000_000, pricePerMillionWru: 1.25 },
      { writeUnits: 3_000_000, estimatedCostUsd: 3.75 },
    ],
    [
      'at --max-wcu, rounded up to the second',
      { writeUnits: 100_001, maxWcu: 1000 },
      { writeUnits: 100_001, estimatedCostUsd: 0.062501, secondsAtMaxWcu: 101 },
    ],
    [
      '--max-wcu 0 or absent: no duration',
      { writeUnits: 10, maxWcu: 0 },
      { writeUnits: 10, estimatedCostUsd: 0.000006 },
    ],
  ];
  for (const [label, input, expected] of cases)
    test(label, () => assert.deepEqual(estimate({ ...base, ...input }), expected));
});

describe('formatUsd', () => {
  const cases: Array<[number, string]> = [
    [0, 'USD 0.00'],
    [0.000001, 'under USD 0.01'],
    [0.009999, 'under USD 0.01'],
    [0.01, 'USD 0.01'],
    [0.065201, 'USD 0.07'],
    [1234.5, 'USD 1,234.50'],
  ];
  for (const [usd, text] of cases) test(`${usd} -> ${text}`, () => assert.equal(formatUsd(usd), text));
});

describe('formatDryRun', () => {
  test('a full report', () => {
    assert.equal(
      formatDryRun({
        rows: 100_000,
        items: 299_994,
        rejected: 2,
        writeUnits: 320_000,
        itemsPerTable: { watch_by_user: 99_998, watch_by_series: 99_998, latest: 99_998 },
        rejectedByCode: { KEY_EMPTY: 1, NUMBER_INVALID: 1 },
        rejectsFile: '/data/rejects.ndjson',
        maxWcu: 1000,
        pricePerMillionWru: 0.625,
      }),
      [
        'Dry run: every row read, mapped and checked; nothing written.',
        '  rows         100,000',
        '  items        299,994 (watch_by_user 99,998, watch_by_series 99,998, latest 99,998)',
        '  rejected     2 rows: KEY_EMPTY 1, NUMBER_INVALID 1 -> /data/rejects.ndjson',
        '  write units  320,000 (1 per started KB of each item)',
        '  cost         USD 0.20 on demand, at USD 0.625 per million write request units',
        '  time         5m20s at 1,000 WCU/s',
        '',
      ].join('\n'),
    );
  });

  test('nothing rejected, no --max-wcu, reasons by count', () => {
    assert.equal(
      formatDryRun({ ...base, rows: 10, items: 10, writeUnits: 12, itemsPerTable: { t: 10 } }),
      [
        'Dry run: every row read, mapped and checked; nothing written.',
        '  rows         10',
        '  items        10 (t 10)',
        '  rejected     0 rows',
        '  write units  12 (1 per started KB of each item)',
        '  cost         under USD 0.01 on demand, at USD 0.625 per million write request units',
        '',
      ].join('\n'),
    );
    assert.match(
      formatDryRun({ ...base, rejected: 5, rejectedByCode: { A: 1, C: 2, B: 2 } }),
      /rejected {5}5 rows: B 2, C 2, A 1\n/,
    );
  });
});
