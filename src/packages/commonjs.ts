import { createRequire } from 'node:module';

/**
 * require() for the CommonJS packages every thread loads at start (the AWS SDK, undici, pino,
 * commander), re-exported by the modules beside this one. An `import` of a CommonJS file goes
 * through Node's ESM loader: it detects the file's format, then sets up a lexer to find the file's
 * named exports, in every thread again. require() does neither, so each thread starts with less CPU
 * (Node 24 lexes natively, and there the two cost the same).
 */
export const requireCommonJs = createRequire(import.meta.url);
