/**
 * The SDK client's HTTP handler on undici, so DescribeTable, CreateTable and the rest go the way the
 * lean BatchWriteItem path goes: through HTTPS_PROXY / HTTP_PROXY (NO_PROXY), with AWS_CA_BUNDLE,
 * over the same kind of keep-alive pool. The SDK's own NodeHttpHandler takes node:http agents, which
 * know no proxy; the usual fix (a proxy agent package) would be a second HTTP stack.
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-proxies.html
 */
import type { HttpHandlerOptions, HttpRequest, HttpResponse, QueryParameterBag, RequestHandler } from '@smithy/types';
import type { Dispatcher } from 'undici';
import { sdkShaped } from './http-transport.js';

export type SdkHttpHandler = RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> & {
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
};

// undici refuses `expect` (it does not do 100-continue) and sets these per hop itself.
const DROPPED = new Set(['expect', 'connection', 'transfer-encoding']);

export function createSdkHttpHandler(dispatcher: Dispatcher, requestTimeoutMs: number): SdkHttpHandler {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        if (!DROPPED.has(name.toLowerCase())) headers[name] = value;
      const port = request.port === undefined ? '' : `:${request.port}`;
      const query = queryString(request.query ?? {});
      const signal = options.abortSignal as AbortSignal | undefined;
      const timeoutMs = options.requestTimeout ?? requestTimeoutMs;
      try {
        const answer = await dispatcher.request({
          origin: `${request.protocol}//${request.hostname}${port}`,
          path: `${request.path}${query === '' ? '' : `?${query}`}`,
          method: request.method as Dispatcher.HttpMethod,
          headers,
          body: request.body as Dispatcher.DispatchOptions['body'],
          ...(typeof signal?.addEventListener === 'function' ? { signal } : {}),
          ...(timeoutMs > 0 ? { headersTimeout: timeoutMs, bodyTimeout: timeoutMs } : {}),
        });
        const responseHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(answer.headers))
          if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
        // The body is a node:stream Readable, which the SDK's stream helpers expect in Node.
        return { response: { statusCode: answer.statusCode, headers: responseHeaders, body: answer.body } };
      } catch (error) {
        throw sdkShaped(error as Error);
      }
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {
      void dispatcher.destroy().catch(() => undefined);
    },
  };
}

function queryString(query: QueryParameterBag): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (value === null || value === undefined) parts.push(encodeURIComponent(key));
    else
      for (const v of Array.isArray(value) ? value : [value])
        parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`);
  }
  return parts.join('&');
}
