import { readFile } from 'node:fs/promises';
import { parseEndpoint, resolveUploadConfig, type RawUploadOptions, type UploadConfig } from '../config.js';
import { usageError } from '../errors.js';
import { expandInputs } from '../pipeline/inputs.js';
import type { WriteKind } from '../pipeline/item-check.js';
import { parseMappingFile, type MappingFile } from '../pipeline/mapping-file.js';
import { configureS3 } from '../pipeline/s3/s3-settings.js';
import { takeShare, type ShareSummary } from './shard-share.js';

/**
 * The options, validated once: the only step that reads them raw. The inputs are expanded (S3
 * configured for s3:// globs first) and the mapping file read before the config is resolved.
 */
export async function resolveRun(
  args: readonly string[],
  raw: RawUploadOptions,
  kind: WriteKind,
): Promise<{ config: UploadConfig; share: ShareSummary | undefined }> {
  configureS3({
    endpoint: raw.s3Endpoint === undefined ? undefined : parseEndpoint(raw.s3Endpoint, '--s3-endpoint'),
    region: raw.region,
  });
  const inputs = await expandInputs(raw.fromRejects === undefined ? args : [...args, raw.fromRejects]);
  const mapping = raw.map === undefined ? undefined : await readMapping(raw.map, raw.table);
  const { config, share } = await takeShare(
    resolveUploadConfig(inputs, raw, { kind, ...(mapping ? { mapping } : {}) }),
  );
  if (config.inputs.includes('-') && process.stdin.isTTY) {
    throw usageError(
      'STDIN_TTY',
      'Expected rows on standard input (`-`), but it is a terminal: pipe a file in, e.g. `cat rows.csv | dynaload upload - --table T`',
    );
  }
  return { config, share };
}

export async function readMapping(file: string, table: string | undefined): Promise<MappingFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw usageError(
      'MAP_INVALID',
      `Expected \`--map\` to name a readable JSON file, got ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { file },
    );
  }
  return parseMappingFile(json, table?.trim() || undefined, file);
}
