// undici, through require() (see ./commonjs.ts): the two dispatchers dynaload uses, not undici's
// entry, which loads all of undici (fetch, WebSocket, EventSource, caches, mocks, interceptors),
// about four times the files, in every thread. undici has no exports map, and package-lock.json
// pins its version; the proxy and transport tests run these paths.
import type * as Undici from 'undici';
import { requireCommonJs } from './commonjs.js';

// What undici's entry does first: every dispatcher gets request, stream, pipeline, connect and
// upgrade. The SDK's requests use `request`, and undici's proxy agent uses `connect`.
const dispatcher = requireCommonJs('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
Object.assign(dispatcher.prototype, requireCommonJs('undici/lib/api/index.js'));

export const Agent = requireCommonJs('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const EnvHttpProxyAgent = requireCommonJs(
  'undici/lib/dispatcher/env-http-proxy-agent.js',
) as typeof Undici.EnvHttpProxyAgent;
export type { Dispatcher } from 'undici';
