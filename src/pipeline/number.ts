/**
 * DynamoDB numbers, checked without ever going through a JS `number` (a cell "12345678901234567890"
 * must reach DynamoDB digit for digit). Rules from
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 * : up to 38 significant digits; a non-zero magnitude from 1E-130 to
 * 9.9999999999999999999999999999999999999E+125; leading and trailing zeros are not significant.
 */
import { DynaloadError } from '../errors.js';

export interface DynamoNumber {
  /** The input, unchanged: this is what is sent to DynamoDB. */
  text: string;
  /**
   * Plain decimal notation, never an exponent: no `+`, no leading zeros in the integer part, no
   * trailing zeros in the fraction, no trailing `.`, and `0` for every zero (`-0`, `0.000`, `0e5`).
   * Numbers DynamoDB treats as the same key have the same canonical string ("1", "1.0", "+1", "1e0"
   * and "10E-1" all give "1"). At most 170 characters for an in-range number.
   */
  canonical: string;
  /** Significant digits, leading and trailing zeros trimmed; zero counts as 1 digit (one more byte
   * than an "empty" mantissa, so `numberSize` never under-counts it). */
  digits: number;
}

export const MAX_DIGITS = 38;
/** The decimal exponent of the first significant digit (d.ddd × 10^E) must lie in this range. */
const MIN_EXPONENT = -130;
const MAX_EXPONENT = 125;
const RANGE = '1E-130 and 9.9999999999999999999999999999999999999E+125';

const ZERO = 0x30;
const NINE = 0x39;

/** Validates `text` as a DynamoDB number; throws NUMBER_INVALID, NUMBER_PRECISION or NUMBER_RANGE. */
export function parseDynamoNumber(text: string): DynamoNumber {
  return parsePlainInteger(text) ?? parseGeneral(text);
}

/**
 * `text` is an integer written as DynamoDB's canonical form writes it (digits, an optional `-`, no
 * leading zero, at most MAX_DIGITS, not `-0`): valid, and its own canonical string. Told without
 * building a DynamoNumber: most numeric cells are such, and each is checked once per row (and
 * again as a key).
 */
export function isCanonicalInteger(text: string): boolean {
  const start = text.charCodeAt(0) === 0x2d ? 1 : 0;
  const length = text.length - start;
  if (length < 1 || length > MAX_DIGITS) return false;
  const first = text.charCodeAt(start);
  if (first === ZERO) return length === 1 && start === 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

/** Storage size by the documented rule: 1 byte per two significant digits (rounded up) + 1 byte.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html */
export function numberSize(n: DynamoNumber): number {
  return Math.ceil(n.digits / 2) + 1;
}

/**
 * Significant digits of a number text that is already known to be valid (for example an `N` value
 * built by this module), without allocating. Zero counts as 1, as in `DynamoNumber.digits`.
 */
export function countSignificantDigits(text: string): number {
  let position = 0; // index among the digits only, so a '.' between significant digits is skipped
  let first = -1;
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x65 || c === 0x45) break; // e, E: the exponent does not count
    if (c < ZERO || c > NINE) continue; // sign or point
    if (c !== ZERO) {
      if (first < 0) first = position;
      last = position;
    }
    position++;
  }
  return first < 0 ? 1 : last - first + 1;
}

/** Fast path for the common cell: an optional '-' and at most 38 digits with no leading zero. */
function parsePlainInteger(text: string): DynamoNumber | undefined {
  if (isCanonicalInteger(text)) return { text, canonical: text, digits: countSignificantDigits(text) };
  return text === '-0' ? { text, canonical: '0', digits: 1 } : undefined;
}

function parseGeneral(text: string): DynamoNumber {
  let i = 0;
  const c0 = text.charCodeAt(0);
  const negative = c0 === 0x2d;
  if (negative || c0 === 0x2b) i++;
  const intStart = i;
  while (isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (text.charCodeAt(i) === 0x2e) {
    fracStart = ++i;
    while (isDigit(text.charCodeAt(i))) i++;
    fracEnd = i;
  }
  if (intEnd === intStart && fracEnd === fracStart) throw invalid(text);
  let exponent = 0;
  let hugeExponent = 0; // -1 or +1 when |exponent| has more than 15 digits
  if (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45) {
    const expSign = text.charCodeAt(++i) === 0x2d ? -1 : 1;
    if (text.charCodeAt(i) === 0x2d || text.charCodeAt(i) === 0x2b) i++;
    const expStart = i;
    while (text.charCodeAt(i) === ZERO) i++;
    const significantStart = i;
    while (isDigit(text.charCodeAt(i))) i++;
    if (i === expStart) throw invalid(text);
    // Strings are shorter than 2^30 characters, so a 16+ digit exponent can never be pulled back
    // into range by the position of the point: only its sign matters. Shorter ones fit a double.
    if (i - significantStart > 15) hugeExponent = expSign;
    else exponent = expSign * Number(text.slice(significantStart, i));
  }
  if (i !== text.length) throw invalid(text);

  const mantissa = text.slice(intStart, intEnd) + text.slice(fracStart, fracEnd);
  let first = 0;
  while (first < mantissa.length && mantissa.charCodeAt(first) === ZERO) first++;
  if (first === mantissa.length) return { text, canonical: '0', digits: 1 };
  let last = mantissa.length - 1;
  while (mantissa.charCodeAt(last) === ZERO) last--;
  const significand = mantissa.slice(first, last + 1);

  if (significand.length > MAX_DIGITS) {
    throw new DynaloadError(
      'NUMBER_PRECISION',
      `Expected a number with at most ${MAX_DIGITS} significant digits, got \`${preview(text)}\` (${significand.length} digits)`,
      { context: { value: preview(text), digits: significand.length } },
    );
  }
  // value = d.ddd × 10^scale, where d is mantissa[first]
  const scale = exponent - (fracEnd - fracStart) + (mantissa.length - 1 - first);
  if (hugeExponent !== 0 || scale < MIN_EXPONENT || scale > MAX_EXPONENT) {
    throw new DynaloadError(
      'NUMBER_RANGE',
      `Expected a number whose magnitude is 0 or between ${RANGE}, got \`${preview(text)}\``,
      {
        context: { value: preview(text) },
      },
    );
  }
  return { text, canonical: (negative ? '-' : '') + plain(significand, scale), digits: significand.length };
}

/** `digits` × 10^(scale - digits.length + 1) in plain notation. */
function plain(digits: string, scale: number): string {
  if (scale < 0) return `0.${'0'.repeat(-scale - 1)}${digits}`;
  if (scale >= digits.length - 1) return digits + '0'.repeat(scale - digits.length + 1);
  return `${digits.slice(0, scale + 1)}.${digits.slice(scale + 1)}`;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE; // NaN past the end is not a digit
}

function invalid(text: string): DynaloadError {
  const found = text === '' ? 'an empty string' : `\`${preview(text)}\``;
  return new DynaloadError('NUMBER_INVALID', `Expected a decimal number such as \`-12.5\` or \`1e3\`, got ${found}`, {
    context: { value: preview(text) },
  });
}

/** Long cells are cut in messages: a 1 MB "number" should not become a 1 MB log line. */
export function preview(text: string): string {
  return text.length <= 48 ? text : `${text.slice(0, 45)}...`;
}
