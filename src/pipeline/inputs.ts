import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import { expandS3 } from './s3/s3-input.js';
import { isS3Url } from './s3/s3-url.js';

const MAGIC = /[*?[]/;

/**
 * Expands the input arguments: `-` (standard input), plain paths, and globs the shell left quoted
 * (`*`, `?`, `[abc]` within a name, `**` for any depth). Keeps argument order, sorts each glob's
 * matches, drops repeats. A path that does not exist or a glob that matches nothing is a usage error.
 */
export async function expandInputs(args: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  const push = (p: string): void => {
    // `one.csv` and `./one.csv` are the same file: read it once, under its first spelling.
    const identity = p === '-' || isS3Url(p) ? p : path.resolve(p);
    if (!seen.has(identity)) {
      seen.add(identity);
      out.push(p);
    }
  };
  for (const arg of args) {
    if (arg === '-') {
      if (seen.has('-')) throw usageError('INPUT_INVALID', 'Expected standard input (`-`) at most once, got it twice');
      push('-');
      continue;
    }
    if (isS3Url(arg)) {
      (await expandS3(arg)).forEach(push);
      continue;
    }
    if (MAGIC.test(arg)) {
      const matches = await glob(arg);
      if (matches.length === 0) throw usageError('INPUT_NOT_FOUND', `Expected the glob \`${arg}\` to match at least one file, got none`, { value: arg });
      matches.forEach(push);
      continue;
    }
    const info = await stat(arg).catch(() => undefined);
    if (info === undefined) throw usageError('INPUT_NOT_FOUND', `Expected an input file at \`${arg}\`, found nothing there`, { value: arg });
    if (!info.isFile()) throw usageError('INPUT_INVALID', `Expected \`${arg}\` to be a file, got a directory or device`, { value: arg });
    push(arg);
  }
  return out;
}

async function glob(pattern: string): Promise<string[]> {
  const absolute = path.isAbsolute(pattern);
  const parts = pattern.split(/[\\/]+/).filter((p, i) => p !== '' || i === 0);
  const firstMagic = parts.findIndex((p) => MAGIC.test(p));
  const base = parts.slice(0, firstMagic).join('/') || (absolute ? '/' : '.');
  const results: string[] = [];
  await walk(base, parts.slice(firstMagic), results);
  return results.sort();
}

async function walk(dir: string, rest: string[], results: string[]): Promise<void> {
  const [segment, ...tail] = rest;
  if (segment === undefined) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (segment === '**') {
    await walk(dir, tail, results);
    for (const entry of entries) if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(join(dir, entry.name), rest, results);
    return;
  }
  const matcher = toRegExp(segment);
  for (const entry of entries) {
    if (!matcher.test(entry.name) || (entry.name.startsWith('.') && !segment.startsWith('.'))) continue;
    const full = join(dir, entry.name);
    if (tail.length === 0) {
      if (entry.isFile() || (entry.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isFile())) results.push(full);
    } else if (entry.isDirectory()) {
      await walk(full, tail, results);
    }
  }
}

function join(dir: string, name: string): string {
  return dir === '.' ? name : dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

function toRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        const body = segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
