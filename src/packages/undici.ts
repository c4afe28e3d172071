// undici, through require() (see ./commonjs.ts).
import type * as Undici from 'undici';
import { requireCommonJs } from './commonjs.js';

export const { Agent, EnvHttpProxyAgent } = requireCommonJs('undici') as typeof Undici;
export type { Dispatcher } from 'undici';
