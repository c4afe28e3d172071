// commander, through require() (see ./commonjs.ts).
import type * as Commander from 'commander';
import { requireCommonJs } from './commonjs.js';

export const { Command, CommanderError, Option } = requireCommonJs('commander') as typeof Commander;
export type Command = Commander.Command;
export type CommanderError = Commander.CommanderError;
export type Option = Commander.Option;
