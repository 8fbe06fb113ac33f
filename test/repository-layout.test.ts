// The repository's top level shows the product first: the design card's entries (package.json,
// tsconfig.json, cdk8s.yaml, lib, examples, imports, test, dist), docs, the package's CLI (bin) and
// one folder for the harness that tests and builds it (tools). A new top-level directory fails here
// until it is placed under one of these or the list below is changed on purpose
// (docs/contributing/README.md, "Repository layout", says where things go).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The design card's entries: the product. */
const CARD_FILES = ['package.json', 'tsconfig.json', 'cdk8s.yaml'];
const CARD_DIRECTORIES = ['lib', 'examples', 'imports', 'test', 'dist'];
/** Besides the card: the docs, at most two more directories, and the CI entry point (.ci/run). */
const ALLOWED_DIRECTORIES = [...CARD_DIRECTORIES, 'docs', 'bin', 'tools', '.ci'];

/**
 * The top-level directories of a git checkout that hold a tracked file or a new file git does not
 * ignore (out/, node_modules/ and the other ignored outputs are not part of the layout).
 */
function topLevelDirectories(root: string): string[] {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf-8', maxBuffer: 2 ** 26 })
    .split('\0')
    .filter((f) => f.includes('/'));
  return [...new Set(files.map((f) => f.split('/')[0]!))].sort();
}

/** The directories of `root`'s top level that are not in `allowed`. */
function unexpectedDirectories(root: string, allowed: string[]): string[] {
  return topLevelDirectories(root).filter((d) => !allowed.includes(d));
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'pipe' });
}

describe('repository layout', () => {
  test('the check finds a new top-level directory, tracked or not, and skips what git ignores', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-layout-'));
    try {
      git(dir, 'init', '-q');
      fs.writeFileSync(path.join(dir, '.gitignore'), 'out/\n');
      for (const f of ['lib/index.ts', 'scratch/notes.md', 'out/index.js', 'README.md']) {
        fs.mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), 'x\n');
      }
      expect(unexpectedDirectories(dir, ['lib'])).toEqual(['scratch']);
      git(dir, 'add', 'scratch');
      expect(unexpectedDirectories(dir, ['lib'])).toEqual(['scratch']);
      expect(unexpectedDirectories(dir, ['lib', 'scratch'])).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the top level holds the design card, docs, bin, tools and .ci, and nothing else', () => {
    expect(unexpectedDirectories(ROOT, ALLOWED_DIRECTORIES)).toEqual([]);
  });

  test('every entry of the design card is there', () => {
    const missing = [...CARD_FILES, ...CARD_DIRECTORIES].filter((e) => !fs.existsSync(path.join(ROOT, e)));
    expect(missing).toEqual([]);
  });
});
