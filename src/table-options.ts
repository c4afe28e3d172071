import { Option } from './packages/commander.js';
import type { KeyAttribute } from './dynamo/schema.js';
import { usageError } from './errors.js';
import type { KeyType } from './type-spec.js';

/**
 * The options that describe a table dynaload creates (`upload --create-table`, `import`): declared
 * once for both commands, and parsed once.
 */

const KEY_TYPES: readonly KeyType[] = ['S', 'N', 'B'];

/** `user:N` -> `{ name: 'user', type: 'N' }`; the type is case-insensitive, the name may hold colons. */
export function parseKeySpec(text: string, option = '--key'): KeyAttribute {
  const colon = text.lastIndexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  const type =
    colon > 0
      ? text
          .slice(colon + 1)
          .trim()
          .toUpperCase()
      : '';
  if (name === '' || !KEY_TYPES.includes(type as KeyType)) {
    throw usageError('OPTION_INVALID', `Expected \`${option}\` like \`name:S|N|B\`, got \`${text}\``, {
      option,
      value: text,
    });
  }
  return { name, type: type as KeyType };
}

/**
 * `--billing`, `--wcu`, `--rcu`, worded for the table the command creates: `billing` names it
 * ("a created table"), `provisioned` names it when provisioned ("a created provisioned table").
 */
export function capacityOptions(wording: { billing: string; provisioned: string }): [Option, Option, Option] {
  return [
    new Option('--billing <mode>', `billing of ${wording.billing}`)
      .choices(['on-demand', 'provisioned'])
      .default('on-demand'),
    new Option('--wcu <n>', `write capacity of ${wording.provisioned}`),
    new Option('--rcu <n>', `read capacity of ${wording.provisioned} (default: --wcu)`),
  ];
}
