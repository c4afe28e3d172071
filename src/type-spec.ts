import { usageError } from './errors.js';

/**
 * The DynamoDB type a CSV column becomes. `JSON` reads the cell as JSON and picks the matching
 * DynamoDB type (M, L, S, N, BOOL, NULL); L, M, SS, NS and BS read the cell as JSON of that shape.
 */
export const ATTRIBUTE_TYPES = ['S', 'N', 'B', 'BOOL', 'NULL', 'JSON', 'L', 'M', 'SS', 'NS', 'BS'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];
export type KeyType = 'S' | 'N' | 'B';

export type TypeSpec = Readonly<Record<string, AttributeType>>;

const TYPE_SET = new Set<string>(ATTRIBUTE_TYPES);

/** Parses `user:N,series:N,moddt:S` into `{ user: 'N', series: 'N', moddt: 'S' }`. */
export function parseTypeSpec(text: string): TypeSpec {
  // No prototype: `__proto__`, `constructor` and friends are ordinary column names here.
  const spec = Object.create(null) as Record<string, AttributeType>;
  for (const part of text.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const colon = entry.lastIndexOf(':');
    const name = colon > 0 ? entry.slice(0, colon).trim() : '';
    const type =
      colon > 0
        ? entry
            .slice(colon + 1)
            .trim()
            .toUpperCase()
        : '';
    if (name === '' || !TYPE_SET.has(type)) {
      throw usageError(
        'TYPES_INVALID',
        `Expected \`--types\` entries like \`column:TYPE\` with TYPE one of ${ATTRIBUTE_TYPES.join(', ')}, got \`${entry}\``,
        { option: '--types', value: entry },
      );
    }
    if (Object.hasOwn(spec, name)) {
      throw usageError('TYPES_INVALID', `Expected each column once in \`--types\`, got \`${name}\` twice`, {
        option: '--types',
        value: name,
      });
    }
    spec[name] = type as AttributeType;
  }
  return Object.freeze(spec);
}
