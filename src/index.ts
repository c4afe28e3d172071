/**
 * What a transform module may import from `dynaload` (types only at run time, plus NumberValue):
 *
 *   import type { TransformFunction } from 'dynaload';
 *   const toUser: TransformFunction = (row, ctx) => ({ user: BigInt(row.user), at: ctx.line });
 *   export default toUser;
 */
export type {
  FanOutTransform,
  Transform,
  TransformContext,
  TransformFunction,
  TransformItem,
  TransformResult,
} from './pipeline/transform-module.js';
export type { MappingFile, TableRules } from './pipeline/mapping-file.js';
export type { Summary } from './summary.js';
/** For numbers a JavaScript number cannot hold exactly (past 2^53, or more than 17 digits). */
export { NumberValue } from '@aws-sdk/lib-dynamodb';

import type { Transform } from './pipeline/transform-module.js';

/** Identity, for type checking: `export default defineTransform({ table: (row) => ... })`. */
export function defineTransform<T extends Transform>(transform: T): T {
  return transform;
}
