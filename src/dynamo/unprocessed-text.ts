/**
 * The UnprocessedItems of a BatchWriteItem answer as the JSON texts of its write requests, found by
 * scanning the answer rather than parsing it. The writer sent each request as JSON text it keeps
 * (src/dynamo/wire.ts), so a request sent back unchanged is matched by text, without building its
 * objects: with a fifth of the items withheld, parsing the answers cost a noticeable share of a load's
 * CPU. A request that comes back changed is matched by key, as before.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html#API_BatchWriteItem_ResponseSyntax
 */

/** UnprocessedItems as the texts of the requests DynamoDB sent back, by table. */
export interface UnprocessedTexts {
  readonly texts: ReadonlyMap<string, readonly string[]>;
}

/**
 * Request texts by table; undefined when the answer has no UnprocessedItems; null when the text is
 * not a JSON object of the expected shape (the caller parses it instead, and reports what is wrong).
 */
export function scanUnprocessed(text: string): Map<string, string[]> | undefined | null {
  let i = space(text, 0);
  if (text[i] !== '{') return null;
  i = space(text, i + 1);
  let result: Map<string, string[]> | undefined;
  if (text[i] !== '}') {
    for (;;) {
      const keyEnd = skipString(text, i);
      if (keyEnd < 0) return null;
      const key = text.slice(i, keyEnd);
      // An escaped name could spell UnprocessedItems: leave such an answer to JSON.parse.
      if (key.includes('\\')) return null;
      i = space(text, keyEnd);
      if (text[i] !== ':') return null;
      i = space(text, i + 1);
      if (key === '"UnprocessedItems"' && text[i] === '{') {
        const tables = scanTables(text, i);
        if (tables === null) return null;
        [result, i] = tables;
      } else {
        // Other members (ConsumedCapacity, ...) are small: check them, so an answer JSON.parse
        // would refuse is never taken as "nothing withheld".
        const end = skipValue(text, i);
        if (end < 0 || !isJson(text.slice(i, end))) return null;
        i = end;
      }
      i = space(text, i);
      if (text[i] === '}') break;
      if (text[i] !== ',') return null;
      i = space(text, i + 1);
    }
  }
  return space(text, i + 1) === text.length ? result : null;
}

/** `{"table": [request, ...], ...}` at `i`: the texts, and the index past the closing brace. */
function scanTables(text: string, start: number): [Map<string, string[]>, number] | null {
  const tables = new Map<string, string[]>();
  let i = space(text, start + 1);
  if (text[i] === '}') return [tables, i + 1];
  for (;;) {
    const nameEnd = skipString(text, i);
    if (nameEnd < 0) return null;
    let table: string;
    try {
      table = JSON.parse(text.slice(i, nameEnd)) as string;
    } catch {
      return null;
    }
    i = space(text, nameEnd);
    if (text[i] !== ':') return null;
    i = space(text, i + 1);
    if (text[i] !== '[') return null;
    i = space(text, i + 1);
    const requests: string[] = [];
    if (text[i] !== ']') {
      for (;;) {
        if (text[i] !== '{') return null;
        const end = skipValue(text, i);
        if (end < 0) return null;
        requests.push(text.slice(i, end));
        i = space(text, end);
        if (text[i] === ']') break;
        if (text[i] !== ',') return null;
        i = space(text, i + 1);
      }
    }
    tables.set(table, requests);
    i = space(text, i + 1);
    if (text[i] === '}') return [tables, i + 1];
    if (text[i] !== ',') return null;
    i = space(text, i + 1);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function space(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Index past the string starting at `i` (a `"`), or -1. */
function skipString(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x22) return -1;
  let from = i + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Index past the JSON value starting at `i`, or -1. Literals and numbers run to a delimiter. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 0x22) return skipString(text, i);
  if (first !== 0x7b && first !== 0x5b) {
    let j = i;
    while (j < text.length && !',}] \t\r\n'.includes(text[j] as string)) j++;
    return j === i ? -1 : j;
  }
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      j = skipString(text, j);
      if (j < 0) return -1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  return -1;
}
