/**
 * JSON cells -> DynamoDB AttributeValues without JSON.parse: JSON.parse turns 12345678901234567890
 * into 12345678901234567000, so numbers here keep their exact source text as `{ N }`.
 * A strict RFC 8259 parser (https://www.rfc-editor.org/rfc/rfc8259): no comments, no trailing
 * commas, no single quotes, only space/tab/CR/LF as whitespace.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynaloadError, isDynaloadError } from '../errors.js';
import { parseDynamoNumber, preview } from './number.js';

/**
 * DynamoDB refuses documents nested deeper than 32 levels; stopping there also keeps the recursion
 * far from the stack limit. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-attributes
 */
export const MAX_DEPTH = 32;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const NUMBER_LIKE = /[0-9a-zA-Z.+-]*/y;
// eslint-disable-next-line no-control-regex -- JSON is defined in terms of control characters
const PLAIN_CHARS = /[^"\\\u0000-\u001f]*/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** Parses one JSON text into an AttributeValue; throws JSON_INVALID, JSON_DEPTH or NUMBER_*. */
export function jsonToAttributeValue(text: string): AttributeValue {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos < text.length) throw parser.fail('end of input');
  return value;
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  value(depth: number): AttributeValue {
    const c = this.text[this.pos];
    if (c === '"') return { S: this.string() };
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) {
        throw new DynaloadError(
          'JSON_DEPTH',
          `Expected at most ${MAX_DEPTH} nested arrays or objects, got more at position ${this.pos}`,
          {
            context: { position: this.pos },
          },
        );
      }
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === 't' && this.text.startsWith('true', this.pos)) return this.literal(4, { BOOL: true });
    if (c === 'f' && this.text.startsWith('false', this.pos)) return this.literal(5, { BOOL: false });
    if (c === 'n' && this.text.startsWith('null', this.pos)) return this.literal(4, { NULL: true });
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return { N: this.number() };
    throw this.fail('a JSON value');
  }

  skipSpace(): void {
    let c = this.text.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = this.text.charCodeAt(++this.pos);
  }

  fail(expected: string, text = this.text[this.pos]): DynaloadError {
    const found = text === undefined || text === '' ? 'end of input' : `\`${visible(text)}\``;
    return new DynaloadError('JSON_INVALID', `Expected ${expected} at position ${this.pos}, got ${found}`, {
      context: { position: this.pos, expected, found },
    });
  }

  private literal(length: number, value: AttributeValue): AttributeValue {
    this.pos += length;
    return value;
  }

  private number(): string {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text)?.[0] ?? '';
    this.pos += match.length;
    // "01", "1.", "+1", "1e" and "-" fail here with the whole token in the message.
    if (match === '' || /[0-9.eE+-]/.test(this.text[this.pos] ?? '')) {
      NUMBER_LIKE.lastIndex = start;
      const token = NUMBER_LIKE.exec(this.text)?.[0] ?? '';
      this.pos = start;
      throw new DynaloadError(
        'JSON_INVALID',
        `Expected a JSON number such as \`0\`, \`-1.5\` or \`2e10\` at position ${start}, got \`${preview(token)}\``,
        {
          context: { position: start, expected: 'a JSON number', found: preview(token) },
        },
      );
    }
    try {
      return parseDynamoNumber(match).text;
    } catch (error) {
      if (!isDynaloadError(error)) throw error;
      throw new DynaloadError(error.code, `${error.message} at position ${start}`, {
        context: { ...error.context, position: start },
        cause: error,
      });
    }
  }

  private string(): string {
    let out = '';
    this.pos++; // opening quote
    for (;;) {
      PLAIN_CHARS.lastIndex = this.pos;
      const run = PLAIN_CHARS.exec(this.text)?.[0] ?? '';
      out += run;
      this.pos += run.length;
      const c = this.text[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c !== '\\')
        throw this.fail(c === undefined ? 'a closing `"`' : 'a printable character or an escape such as \\n');
      const e = this.text[++this.pos];
      if (e === 'u') {
        const hex = this.text.slice(this.pos + 1, this.pos + 5);
        if (!HEX4.test(hex)) {
          this.pos++;
          throw this.fail('four hex digits after `\\u`', hex);
        }
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 5;
      } else {
        const escaped = e === undefined ? undefined : ESCAPES[e];
        if (escaped === undefined) throw this.fail('an escape such as \\n, \\" or \\u00e9');
        out += escaped;
        this.pos++;
      }
    }
  }

  private array(depth: number): AttributeValue {
    const list: AttributeValue[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { L: list };
    }
    for (;;) {
      this.skipSpace();
      list.push(this.value(depth));
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === ']') return { L: list };
      if (c !== ',') {
        this.pos--;
        throw this.fail('`,` or `]`');
      }
    }
  }

  private object(depth: number): AttributeValue {
    const map: Record<string, AttributeValue> = {};
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { M: map };
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') throw this.fail('a `"` starting a key');
      const key = this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ':') throw this.fail('`:`');
      this.pos++;
      this.skipSpace();
      const value = this.value(depth);
      // Last duplicate wins, as with JSON.parse; "__proto__" must stay an own key, not a prototype.
      if (key === '__proto__')
        Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
      else map[key] = value;
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === '}') return { M: map };
      if (c !== ',') {
        this.pos--;
        throw this.fail('`,` or `}`');
      }
    }
  }
}

const SET_NAMES = { SS: 'string set', NS: 'number set', BS: 'binary set' } as const;
/** Standard base64 (RFC 4648 section 4), padding optional; Buffer.from alone skips bad characters. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * A set cell is a JSON array: SS of strings; NS of numbers or strings holding numbers (kept as
 * written, compared by canonical value); BS of base64 strings. DynamoDB refuses empty sets and
 * duplicate elements, so both are errors here (SET_EMPTY, SET_DUPLICATE), as are a cell that is
 * not an array (SET_INVALID) and an element of the wrong type (SET_ELEMENT).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.SetTypes
 */
export function jsonToSet(kind: 'SS' | 'NS' | 'BS', text: string): AttributeValue {
  const name = SET_NAMES[kind];
  const parsed = jsonToAttributeValue(text);
  if (parsed.L === undefined) {
    throw new DynaloadError('SET_INVALID', `Expected a JSON array for a ${name}, got ${describe(parsed)}`, {
      context: { kind },
    });
  }
  if (parsed.L.length === 0) {
    throw new DynaloadError(
      'SET_EMPTY',
      `Expected at least one element in a ${name}, got \`[]\` (DynamoDB has no empty sets)`,
      {
        context: { kind },
      },
    );
  }
  const seen = new Map<string, number>();
  const strings: string[] = [];
  const binaries: Uint8Array[] = [];
  parsed.L.forEach((element, index) => {
    let key: string;
    if (kind === 'SS') {
      if (element.S === undefined) throw wrongElement(name, 'a string', element, index);
      key = element.S;
      strings.push(element.S);
    } else if (kind === 'NS') {
      const textValue = element.N ?? element.S;
      if (textValue === undefined) throw wrongElement(name, 'a number or a string holding one', element, index);
      key = numberAt(textValue, index).canonical;
      strings.push(textValue);
    } else {
      if (element.S === undefined || !BASE64.test(element.S))
        throw wrongElement(name, 'a base64 string', element, index);
      const bytes = Buffer.from(element.S, 'base64');
      key = bytes.toString('base64'); // "QQ" and "QQ==" are the same bytes
      // A copy, not a view: small Buffers share an 8 KB pool that postMessage would clone whole.
      binaries.push(new Uint8Array(bytes));
    }
    const previous = seen.get(key);
    if (previous !== undefined) {
      throw new DynaloadError(
        'SET_DUPLICATE',
        `Expected distinct elements in a ${name}, got ${describe(element)} at index ${index}, equal to the element at index ${previous}`,
        {
          context: { kind, index, previous },
        },
      );
    }
    seen.set(key, index);
  });
  if (kind === 'BS') return { BS: binaries };
  return kind === 'SS' ? { SS: strings } : { NS: strings };
}

function numberAt(text: string, index: number): ReturnType<typeof parseDynamoNumber> {
  try {
    return parseDynamoNumber(text);
  } catch (error) {
    if (!isDynaloadError(error)) throw error;
    throw new DynaloadError(error.code, `${error.message} at index ${index}`, {
      context: { ...error.context, index },
      cause: error,
    });
  }
}

function wrongElement(name: string, expected: string, element: AttributeValue, index: number): DynaloadError {
  return new DynaloadError(
    'SET_ELEMENT',
    `Expected ${expected} at index ${index} of a ${name}, got ${describe(element)}`,
    {
      context: { index, expected },
    },
  );
}

/** Control characters shown as JSON escapes, so a stray tab or NUL is visible in a message. */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex -- JSON is defined in terms of control characters
  return preview(text).replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

function describe(value: AttributeValue): string {
  if (value.S !== undefined) return `the string \`${preview(value.S)}\``;
  if (value.N !== undefined) return `the number \`${value.N}\``;
  if (value.BOOL !== undefined) return `\`${value.BOOL}\``;
  if (value.NULL !== undefined) return '`null`';
  return value.L !== undefined ? 'an array' : 'an object';
}
