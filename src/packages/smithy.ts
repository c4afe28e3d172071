// The SDK's signer and endpoint resolver (@smithy packages), through require() (see ./commonjs.ts).
import type * as Endpoints from '@smithy/core/endpoints';
import type * as Signing from '@smithy/signature-v4';
import { requireCommonJs } from './commonjs.js';

export const { SignatureV4 } = requireCommonJs('@smithy/signature-v4') as typeof Signing;
export const { getEndpointFromInstructions } = requireCommonJs('@smithy/core/endpoints') as typeof Endpoints;
export type SignatureV4 = Signing.SignatureV4;
