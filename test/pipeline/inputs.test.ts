import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { expandInputs } from '../../src/pipeline/inputs.js';

// Glob rules as a POSIX shell applies them (`*`, `?`, `[ab]`, `[!a]` within one name; hidden names
// only when the pattern starts with `.`), plus `**` for any depth (quoted globs).
let root = '';
const FILES = [
  'shards/part-a.csv',
  'shards/part-b.csv',
  'shards/part-c.csv',
  'shards/part-10.csv',
  'shards/notes.txt',
  'shards/.hidden.csv',
  'shards/sub/deep.csv',
  'shards/sub/more/deeper.csv',
  'shards/.git/x.csv',
  'one.csv',
  'named/data[1].csv',
  'named/data1.csv',
  'named/a*b.csv',
  'named/axb.csv',
  'named/{x}.csv',
];

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dynaload-inputs-'));
  for (const file of FILES) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), 'id\n1\n');
  }
  await mkdir(path.join(root, 'empty'));
  await symlink('loop', path.join(root, 'loop'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const at = (...names: string[]): string[] => names.map((n) => `${root}/${n}`);

describe('expandInputs', () => {
  const ok: Array<[label: string, args: () => string[], expected: () => string[]]> = [
    ['a plain path', () => at('one.csv'), () => at('one.csv')],
    [
      'plain paths keep argument order',
      () => at('shards/part-b.csv', 'one.csv', 'shards/part-a.csv'),
      () => at('shards/part-b.csv', 'one.csv', 'shards/part-a.csv'),
    ],
    ['standard input', () => ['-'], () => ['-']],
    ['standard input among files', () => [...at('one.csv'), '-'], () => [...at('one.csv'), '-']],
    [
      '`*`: sorted, hidden and other extensions left out, no descent',
      () => at('shards/*.csv'),
      () => at('shards/part-10.csv', 'shards/part-a.csv', 'shards/part-b.csv', 'shards/part-c.csv'),
    ],
    ['`[ab]`', () => at('shards/part-[ab].csv'), () => at('shards/part-a.csv', 'shards/part-b.csv')],
    ['`[!a]`', () => at('shards/part-[!a].csv'), () => at('shards/part-b.csv', 'shards/part-c.csv')],
    ['`[a-b]`', () => at('shards/part-[a-b].csv'), () => at('shards/part-a.csv', 'shards/part-b.csv')],
    [
      '`?` is exactly one character',
      () => at('shards/part-?.csv'),
      () => at('shards/part-a.csv', 'shards/part-b.csv', 'shards/part-c.csv'),
    ],
    ['`??`', () => at('shards/part-??.csv'), () => at('shards/part-10.csv')],
    [
      '`**` at any depth, zero included, hidden directories skipped',
      () => at('shards/**/*.csv'),
      () =>
        at(
          'shards/part-10.csv',
          'shards/part-a.csv',
          'shards/part-b.csv',
          'shards/part-c.csv',
          'shards/sub/deep.csv',
          'shards/sub/more/deeper.csv',
        ),
    ],
    ['a magic directory segment', () => at('sh*/sub/*.csv'), () => at('shards/sub/deep.csv')],
    ['a pattern starting with `.` matches hidden names', () => at('shards/.*.csv'), () => at('shards/.hidden.csv')],
    ['repeats dropped: the same path twice', () => at('one.csv', 'one.csv'), () => at('one.csv')],
    [
      'repeats dropped: a glob and a path it matches',
      () => at('shards/part-a.csv', 'shards/part-[ab].csv'),
      () => at('shards/part-a.csv', 'shards/part-b.csv'),
    ],
    [
      'a name with `[...]` that exists is that file, not a glob',
      () => at('named/data[1].csv'),
      () => at('named/data[1].csv'),
    ],
    ['a name with `[...]` that does not exist is a glob', () => at('named/data[0-9].csv'), () => at('named/data1.csv')],
    [
      'repeats dropped: overlapping globs',
      () => at('shards/part-[ab].csv', 'shards/part-?.csv'),
      () => at('shards/part-a.csv', 'shards/part-b.csv', 'shards/part-c.csv'),
    ],
    [
      '`{a,b}`: sorted whatever the order inside the braces',
      () => at('shards/part-{c,a}.csv'),
      () => at('shards/part-a.csv', 'shards/part-c.csv'),
    ],
    ['`{a,b}` across folders', () => at('{one,shards/part-b}.csv'), () => at('one.csv', 'shards/part-b.csv')],
    ['`\\*` is a literal star', () => at('named/a\\*b.csv'), () => at('named/a*b.csv')],
    ['`\\[`...`\\]` are literal brackets', () => at('named/data\\[1\\].csv'), () => at('named/data[1].csv')],
    ['`\\{`...`\\}` are literal braces', () => at('named/\\{x\\}.*'), () => at('named/{x}.csv')],
  ];
  for (const [label, args, expected] of ok) {
    test(label, async () => {
      assert.deepEqual(await expandInputs(args()), expected());
    });
  }

  test('a relative glob gives relative paths', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      assert.deepEqual(await expandInputs(['shards/part-[bc].csv', 'one.csv']), [
        'shards/part-b.csv',
        'shards/part-c.csv',
        'one.csv',
      ]);
    } finally {
      process.chdir(cwd);
    }
  });

  test('the same file spelled two ways is read once', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      assert.deepEqual(await expandInputs(['one.csv', './one.csv']), ['one.csv']);
    } finally {
      process.chdir(cwd);
    }
  });

  const bad: Array<[label: string, args: () => string[], code: string, message: () => string]> = [
    [
      '`-` twice',
      () => ['-', ...at('one.csv'), '-'],
      'INPUT_INVALID',
      () => 'Expected standard input (`-`) at most once, got it twice',
    ],
    [
      'a missing file',
      () => at('missing.csv'),
      'INPUT_NOT_FOUND',
      () => `Expected an input file at \`${root}/missing.csv\`, found nothing there`,
    ],
    [
      'a missing file after good ones',
      () => at('one.csv', 'nope/a.csv'),
      'INPUT_NOT_FOUND',
      () => `Expected an input file at \`${root}/nope/a.csv\`, found nothing there`,
    ],
    [
      'a glob matching nothing',
      () => at('shards/*.json'),
      'INPUT_NOT_FOUND',
      () => `Expected the glob \`${root}/shards/*.json\` to match at least one file, got none`,
    ],
    [
      'a glob in an empty directory',
      () => at('empty/*'),
      'INPUT_NOT_FOUND',
      () => `Expected the glob \`${root}/empty/*\` to match at least one file, got none`,
    ],
    [
      'a glob under a missing directory',
      () => at('nowhere/**/*.csv'),
      'INPUT_NOT_FOUND',
      () => `Expected the glob \`${root}/nowhere/**/*.csv\` to match at least one file, got none`,
    ],
    [
      'a folder a glob cannot read (a link to itself)',
      () => at('loop/*.csv'),
      'INPUT_UNREADABLE',
      () => `Expected to read \`${root}/loop/*.csv\`, got ELOOP`,
    ],
    [
      'a directory',
      () => at('shards'),
      'INPUT_INVALID',
      () => `Expected \`${root}/shards\` to be a file, got a directory or device`,
    ],
  ];
  for (const [label, args, code, message] of bad) {
    test(`usage error: ${label}`, async () => {
      await assert.rejects(expandInputs(args()), (error: unknown) => {
        const e = error as { code: string; message: string; exitCode: number };
        assert.deepEqual([e.code, e.message, e.exitCode], [code, message(), 2]);
        return true;
      });
    });
  }

  test('a folder that cannot be read (EACCES) is an error, not "matched nothing"', async () => {
    const denied = (file: string): NodeJS.ErrnoException =>
      Object.assign(new Error(`EACCES: permission denied, scandir '${file}'`), { code: 'EACCES' });
    const fs = {
      readdir: async (dir: string) =>
        dir.endsWith('/sub') ? Promise.reject(denied(dir)) : readdir(dir, { withFileTypes: true }),
      stat,
    };
    await assert.rejects(
      expandInputs(at('shards/**/*.csv'), fs),
      (error: { code: string; message: string; exitCode: number }) => {
        assert.deepEqual([error.code, error.exitCode], ['INPUT_UNREADABLE', 2]);
        assert.equal(error.message, `Expected to read \`${root}/shards/sub\`, got EACCES`);
        return true;
      },
    );
  });

  test('the folder a glob starts from cannot be read (EACCES): an error naming it, with a code', async () => {
    const fs = {
      readdir: async (dir: string) =>
        dir === `${root}/shards`
          ? Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))
          : readdir(dir, { withFileTypes: true }),
      stat,
    };
    await assert.rejects(expandInputs(at('shards/*.csv'), fs), {
      code: 'INPUT_UNREADABLE',
      exitCode: 2,
      message: `Expected to read \`${root}/shards\`, got EACCES`,
    });
  });

  test(
    'a folder without read permission on disk is an error, not "matched nothing"',
    { skip: process.getuid?.() === 0 ? 'root reads any folder' : false },
    async () => {
      const locked = path.join(root, 'locked');
      await mkdir(path.join(locked, 'inner'), { recursive: true });
      await writeFile(path.join(locked, 'inner', 'x.csv'), 'id\n1\n');
      await chmod(path.join(locked, 'inner'), 0o000);
      try {
        await assert.rejects(expandInputs([`${locked}/**/*.csv`]), {
          code: 'INPUT_UNREADABLE',
          message: `Expected to read \`${locked}/inner\`, got EACCES`,
        });
      } finally {
        await chmod(path.join(locked, 'inner'), 0o755);
      }
    },
  );
});
