#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// The main thread only coordinates (the workers read, map and send), yet V8 grows its young
// generation while the modules load and keeps it for the whole run, resident for nothing. V8
// reads this factor each time it would grow a young generation, so the main thread keeps its
// first, small one; the workers size theirs with resourceLimits (src/pool/pool.ts).
setFlagsFromString('--semi-space-growth-factor=1');
// Each heap (the main thread's and each worker's) grows to 1.7 times what it kept at its last full
// collection, whatever V8 would choose: up to 4 times for the main thread on a machine with memory
// to spare, and for a worker under its 1 GB limit a factor that moves with how long collections
// take. The workers' requests and rows die old, after a round-trip, so their heaps are mostly that
// margin. Not less: nearly every row is promoted before it dies, so a full collection, whose
// marking runs over everything kept, comes each time the margin fills; a narrower one pays in CPU
// per row.
setFlagsFromString('--heap-growing-percent=70');
// The SDK warns on every run that its 2027 releases will need Node 22; dynaload pins a release
// that supports Node 20, so the warning is noise on a CLI's stderr. Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/cli.js');
await main(process.argv);
