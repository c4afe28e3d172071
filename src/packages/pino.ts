// pino, through require() (see ./commonjs.ts).
import type * as Pino from 'pino';
import { requireCommonJs } from './commonjs.js';

export const { pino } = requireCommonJs('pino') as typeof Pino;
export type { Logger } from 'pino';
