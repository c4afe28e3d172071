import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import { expandS3 } from './s3/s3-input.js';
import { isS3Url } from './s3/s3-url.js';

const MAGIC = /[*?[]/;

/** The file system calls the expansion makes (tests give ones that fail). */
export interface InputsFs {
  readonly readdir: (dir: string) => Promise<Dirent[]>;
  readonly stat: (file: string) => Promise<Stats>;
}

const FS: InputsFs = { readdir: (dir) => readdir(dir, { withFileTypes: true }), stat };

/**
 * Expands the input arguments: `-` (standard input), plain paths, and globs the shell left quoted
 * (`*`, `?`, `[abc]` within a name, `**` for any depth). A name that exists as written is that file,
 * even with glob characters in it (`data[1].csv`), as a shell leaves it. Keeps argument order, sorts
 * each glob's matches, drops repeats. A path that does not exist or a glob that matches nothing is a
 * usage error, and so is a folder the glob cannot read (it might have held matches).
 */
export async function expandInputs(args: readonly string[], fs: InputsFs = FS): Promise<string[]> {
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
    const info = await fs.stat(arg).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw unreadable(arg, error);
    });
    if (info === undefined && MAGIC.test(arg)) {
      const matches = await glob(arg, fs);
      if (matches.length === 0)
        throw usageError('INPUT_NOT_FOUND', `Expected the glob \`${arg}\` to match at least one file, got none`, {
          value: arg,
        });
      matches.forEach(push);
      continue;
    }
    if (info === undefined)
      throw usageError('INPUT_NOT_FOUND', `Expected an input file at \`${arg}\`, found nothing there`, { value: arg });
    if (!info.isFile())
      throw usageError('INPUT_INVALID', `Expected \`${arg}\` to be a file, got a directory or device`, { value: arg });
    push(arg);
  }
  return out;
}

function unreadable(place: string, error: NodeJS.ErrnoException): Error {
  return usageError('INPUT_UNREADABLE', `Expected to read \`${place}\`, got ${error.code ?? error.message}`, {
    value: place,
  });
}

async function glob(pattern: string, fs: InputsFs): Promise<string[]> {
  const absolute = path.isAbsolute(pattern);
  const parts = pattern.split(/[\\/]+/).filter((p, i) => p !== '' || i === 0);
  const firstMagic = parts.findIndex((p) => MAGIC.test(p));
  const base = parts.slice(0, firstMagic).join('/') || (absolute ? '/' : '.');
  const results: string[] = [];
  await walk(base, parts.slice(firstMagic), results, fs);
  return results.sort();
}

async function walk(dir: string, rest: string[], results: string[], fs: InputsFs): Promise<void> {
  const [segment, ...tail] = rest;
  if (segment === undefined) return;
  // A folder that is not there holds no match; one that cannot be read might: that is an error.
  const entries = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw unreadable(dir, error);
  });
  if (segment === '**') {
    await walk(dir, tail, results, fs);
    for (const entry of entries)
      if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(join(dir, entry.name), rest, results, fs);
    return;
  }
  const matcher = toRegExp(segment);
  for (const entry of entries) {
    if (!matcher.test(entry.name) || (entry.name.startsWith('.') && !segment.startsWith('.'))) continue;
    const full = join(dir, entry.name);
    if (tail.length === 0) {
      if (entry.isFile() || (entry.isSymbolicLink() && (await fs.stat(full).catch(() => undefined))?.isFile()))
        results.push(full);
    } else if (entry.isDirectory()) {
      await walk(full, tail, results, fs);
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
        const body = segment
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
