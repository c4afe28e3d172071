import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MAX_DIGITS } from './number.js';

/**
 * `--infer`: a cell becomes a number only when DynamoDB would give back the very same text, and a
 * boolean only for `true`/`false`. Anything else stays a string, so inference never changes a value:
 * - `00123` (the zeros would be lost), `+7`, `1e5` (read back as 100000), `1.50` (read back as
 *   1.5), `-0`, `.5` and numbers past 38 significant digits stay strings;
 * - `TRUE`, `yes`, `1` stay strings (`1` is a number).
 */
const CANONICAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/;

export function inferCell(cell: string): AttributeValue {
  if (cell === 'true') return { BOOL: true };
  if (cell === 'false') return { BOOL: false };
  if (isCanonicalNumber(cell)) return { N: cell };
  return { S: cell };
}

export function isCanonicalNumber(text: string): boolean {
  if (text.length > 200 || !CANONICAL.test(text) || text === '-0') return false;
  return significantDigits(text) <= MAX_DIGITS && inRange(text);
}

function significantDigits(text: string): number {
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  const trimmed = text.includes('.') ? digits : digits.replace(/0+$/, '');
  return Math.max(1, trimmed.length);
}

/** DynamoDB's range: magnitude 0, or 1E-130 up to below 1E+126. */
function inRange(text: string): boolean {
  const unsigned = text.replace(/^-/, '');
  const [whole = '', fraction = ''] = unsigned.split('.');
  if (whole !== '0') return whole.length <= 126;
  if (fraction === '') return true; // zero
  const leadingZeros = fraction.length - fraction.replace(/^0+/, '').length;
  return leadingZeros < 130;
}

export type InferredType = 'N' | 'BOOL' | 'S';

export interface MixedColumn {
  readonly column: string;
  readonly types: readonly { readonly type: InferredType; readonly count: number; readonly example: string }[];
}

/**
 * Inference decides per cell, so one column may be written with several types (`00123` S, `42` N).
 * A worker counts what it chose per column, with a first example of each type, to warn about it:
 * counting is cheap, while deciding per column would need every cell before the first write.
 */
export class InferTally {
  private readonly columns = new Map<string, Map<InferredType, { count: number; example: string }>>();

  /** `inferCell` for one column (or mapped attribute), counting the type of each cell. */
  infer(column: string): (cell: string) => AttributeValue {
    let types = this.columns.get(column);
    if (types === undefined) this.columns.set(column, (types = new Map()));
    const tally = types;
    return (cell) => {
      const value = inferCell(cell);
      const type: InferredType = value.N !== undefined ? 'N' : value.BOOL !== undefined ? 'BOOL' : 'S';
      const seen = tally.get(type);
      if (seen === undefined) tally.set(type, { count: 1, example: cell });
      else seen.count++;
      return value;
    };
  }

  /** Columns written with more than one type, most frequent type first. */
  mixed(): MixedColumn[] {
    const out: MixedColumn[] = [];
    for (const [column, types] of this.columns) {
      if (types.size < 2) continue;
      out.push({
        column,
        types: [...types]
          .map(([type, { count, example }]) => ({ type, count, example }))
          .sort((a, b) => b.count - a.count),
      });
    }
    return out;
  }
}

/** The warning for a column written with several types, naming the `--types` that would give one. */
export function mixedColumnMessage(mixed: MixedColumn): string {
  const types = mixed.types
    .map(
      (t) => `${t.type} in ${t.count} (e.g. \`${t.example.length > 40 ? `${t.example.slice(0, 37)}...` : t.example}\`)`,
    )
    .join(', ');
  return `--infer decides per cell: column \`${mixed.column}\` was written as ${types}; for one type in every item, give it one (\`--types ${mixed.column}:S\`, or \`types\` in a mapping file)`;
}
