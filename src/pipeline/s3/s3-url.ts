import { DynaloadError } from '../../errors.js';

/** `s3://bucket/key`: where an object (or, with glob characters in the key, a set of objects) lives. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

const MAGIC = /[*?[]/;

export function isS3Url(input: string): boolean {
  return input.startsWith('s3://');
}

export function parseS3Url(url: string): S3Location {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket === '' || key === '') {
    throw new DynaloadError(
      'INPUT_INVALID',
      `Expected an S3 input as s3://bucket/key or s3://bucket/prefix/*.csv, got \`${url}\``,
      { exitCode: 2, context: { value: url } },
    );
  }
  return { bucket, key };
}

export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** True when the key holds glob characters, so it names a set of objects to list. */
export function isKeyGlob(key: string): boolean {
  return MAGIC.test(key);
}

/** The literal part of a key glob before its first glob character: the prefix to list by. */
export function listPrefix(key: string): string {
  const at = key.search(MAGIC);
  return at === -1 ? key : key.slice(0, at);
}

/**
 * A key glob as a RegExp over whole keys, with the meanings local globs give: `*` and `?` stay
 * within one `/`-separated part, `[abc]` / `[!abc]` a class, `**` as a whole part any depth.
 */
export function keyMatcher(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (
      c === '*' &&
      glob[i + 1] === '*' &&
      (i === 0 || glob[i - 1] === '/') &&
      (i + 2 === glob.length || glob[i + 2] === '/')
    ) {
      // `**/` matches no part or any number of parts; a trailing `**` anything below.
      source += i + 2 === glob.length ? '.*' : '(?:[^/]*/)*';
      i += 2;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[' && glob.indexOf(']', i + 2) !== -1) {
      const close = glob.indexOf(']', i + 2);
      source += `[${glob
        .slice(i + 1, close)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\[\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
