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
