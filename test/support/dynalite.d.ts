// dynalite ships no types; this covers the part the tests use.
// Loaded through a `/// <reference>` in dynalite.ts, because TypeScript leaves a .d.ts out of an
// `include` glob when a .ts file of the same name sits next to it.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  export interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
