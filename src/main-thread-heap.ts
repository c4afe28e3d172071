import { setFlagsFromString } from 'node:v8';

/**
 * The launcher (bin/dynaload.js) keeps the main thread's young generation at its first size: in
 * `upload` and `delete` the main thread only coordinates the workers. A command that does its work
 * on the main thread (`import` reads, maps and checks every row there; `demo` runs its server
 * there) lets it grow again as V8 does by default (a factor of 2): held at its first size, reading
 * and serializing rows on the main thread cost up to twice the CPU.
 */
export function mainThreadWorks(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
}
