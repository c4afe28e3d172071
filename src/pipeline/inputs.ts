import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type * as Tinyglobby from 'tinyglobby';
import { usageError } from '../errors.js';
import { isS3Url } from './s3/s3-url.js';

/** The file system calls the expansion makes (tests give ones that fail). */
export interface InputsFs {
  readonly readdir: (dir: string) => Promise<Dirent[]>;
  readonly stat: (file: string) => Promise<Stats>;
}

const FS: InputsFs = { readdir: (dir) => readdir(dir, { withFileTypes: true }), stat };

/**
 * Expands the input arguments: `-` (standard input), plain paths, and globs the shell left quoted
 * (`*`, `?`, `[abc]` within a name, `{a,b}`, `**` for any depth, `\\` to escape). A name that exists as written is that file,
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
      const { expandS3 } = await import('./s3/s3-input.js');
      (await expandS3(arg)).forEach(push);
      continue;
    }
    const info = await fs.stat(arg).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw unreadable(arg, error);
    });
    // tinyglobby loads only for an input that names no file: it brings picomatch, a CommonJS
    // package, through the ESM loader (see src/packages/commonjs.ts).
    const globs = info === undefined ? await import('tinyglobby') : undefined;
    if (globs !== undefined && isGlob(globs, arg)) {
      const matches = await glob(globs, arg, fs);
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

/**
 * One glob's matches through tinyglobby (picomatch's rules: `*`, `?`, `[...]`, `{a,b}`, `**`,
 * `\\` escapes; hidden names only when the pattern names them), spelled from the pattern's literal
 * folder as before. tinyglobby's crawler (fdir) passes over folders it cannot read; our `readdir`
 * keeps the first such failure, so an unreadable folder is an error rather than "no match".
 */
async function glob(globs: typeof Tinyglobby, pattern: string, fs: InputsFs): Promise<string[]> {
  const absolute = path.isAbsolute(pattern);
  // Only `/` separates: a backslash escapes the character after it.
  const parts = pattern.split(/\/+/).filter((p, i) => p !== '' || i === 0);
  const firstMagic = parts.findIndex((part) => isGlob(globs, part));
  const base = parts.slice(0, firstMagic).join('/') || (absolute ? '/' : '.');
  let failure: { dir: string; error: NodeJS.ErrnoException } | undefined;
  const readdir = (
    crawled: string,
    _options: unknown,
    done: (error: Error | null, entries: Dirent[]) => void,
  ): void => {
    // fdir names folders with a trailing `/`.
    const dir = crawled.length > 1 ? crawled.replace(/\/$/, '') : crawled;
    fs.readdir(dir).then(
      (entries) => done(null, entries),
      (error: NodeJS.ErrnoException) => {
        // A folder that is not there holds no match; one that cannot be read might.
        if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') failure ??= { dir, error };
        done(error, []);
      },
    );
  };
  const matches = await globs.glob(parts.slice(firstMagic).join('/'), {
    cwd: base,
    onlyFiles: true,
    expandDirectories: false,
    fs: { readdir: readdir as unknown as NonNullable<Tinyglobby.FileSystemAdapter['readdir']> },
  });
  if (failure !== undefined) {
    const inside = path.relative(path.resolve(base), failure.dir);
    throw unreadable(inside === '' ? base : join(base, inside), failure.error);
  }
  return matches.map((match) => join(base, match)).sort();
}

/** Glob characters, or escapes (a pattern of escaped characters only names one literal file). */
function isGlob(globs: typeof Tinyglobby, text: string): boolean {
  return globs.isDynamicPattern(text) || text.includes('\\');
}

function join(dir: string, name: string): string {
  return dir === '.' ? name : dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
