#!/usr/bin/env node
// The SDK warns on every run that its 2027 releases will need Node 22; dynaload pins a release
// that supports Node 20, so the warning is noise on a CLI's stderr. Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/cli.js');
await main(process.argv);
