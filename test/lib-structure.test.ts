// The shape of lib/, checked on its sources: no import cycle (madge), rendering that never reaches
// the change guard, and no function longer than MAX_FUNCTION_LINES (the TypeScript compiler's own
// parse). Each check is first shown to fail on a small case made to break it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

interface MadgeResult {
  circular(): string[][];
  obj(): { [file: string]: string[] };
}
// madge ships no types
// eslint-disable-next-line @typescript-eslint/no-require-imports
const madge: (target: string, config: object) => Promise<MadgeResult> = require('madge');

const ROOT = path.join(__dirname, '..');
const LIB = path.join(ROOT, 'lib');
/** The longest a function in lib/ may be, in lines from its first to its last, comments and blank lines included. */
const MAX_FUNCTION_LINES = 80;

function graph(dir: string): Promise<MadgeResult> {
  // type-only imports count: they tie the files together as much as the others
  return madge(dir, { fileExtensions: ['ts'], tsConfig: path.join(ROOT, 'tsconfig.json'), detectiveOptions: { ts: { skipTypeImports: false } } });
}

/** Every function, method, constructor, accessor and arrow function longer than `max` lines. */
function longFunctions(file: string, text: string, max: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name ? node.name.getText(source) : ts.SyntaxKind[node.kind];
      if (last - first + 1 > max) found.push(`${file}:${first + 1} ${name} (${last - first + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The files `from` reaches through its imports (keys as madge gives them: relative to the scanned directory). */
function reach(deps: { [file: string]: string[] }, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(deps[f] ?? []));
  }
  return seen;
}

describe('lib/ has no import cycle', () => {
  test('the check finds a cycle when there is one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-cycle-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b';\nexport interface A { b?: B }\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "import { A } from './a';\nexport class B { a?: A; }\n");
      expect((await graph(dir)).circular()).toEqual([['a.ts', 'b.ts']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('madge finds none in lib/', async () => {
    const result = await graph(LIB);
    expect(Object.keys(result.obj()).length).toBeGreaterThan(30);
    expect(result.circular()).toEqual([]);
  });
});

describe('rendering never reaches the change guard', () => {
  test('no construct, nor render.ts, imports lib/plan/guard.ts, directly or not', async () => {
    const deps = (await graph(LIB)).obj();
    expect(reach(deps, 'index.ts').has('plan/guard.ts')).toBe(true); // the check sees the guard where it is
    const rendering = ['render.ts', 'database/stateful-database.ts', 'network/headless-service.ts', 'network/connections.ts',
      'storage/storage-class.ts', 'storage/nfs-pool.ts'];
    for (const file of rendering) {
      expect(deps[file]).toBeDefined();
      expect({ file, reaches: [...reach(deps, file)].filter((f) => f.startsWith('plan/')) }).toEqual({ file, reaches: [] });
    }
  });
});

describe(`no function in lib/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
  test('the check finds a long function, method and arrow function', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES - 1 }, (_, i) => `  const x${i} = ${i};`).join('\n');
    const text = `function long() {\n${body}\n}\nfunction short() {\n  return 1;\n}\n` +
      `class C {\n  m() {\n${body}\n  }\n}\nconst f = () => {\n${body}\n};\n`;
    expect(longFunctions('x.ts', text, MAX_FUNCTION_LINES)).toEqual([
      `x.ts:1 long (${MAX_FUNCTION_LINES + 1} lines)`, `x.ts:${MAX_FUNCTION_LINES + 6} m (${MAX_FUNCTION_LINES + 1} lines)`,
      `x.ts:${2 * MAX_FUNCTION_LINES + 8} ArrowFunction (${MAX_FUNCTION_LINES + 1} lines)`,
    ]);
    expect(longFunctions('x.ts', text, MAX_FUNCTION_LINES + 1)).toEqual([]);
  });

  test('every function in lib/ has at most 80 lines', () => {
    const files = sources(LIB);
    expect(files.length).toBeGreaterThan(30);
    expect(files.flatMap((f) => longFunctions(path.relative(ROOT, f), fs.readFileSync(f, 'utf-8'), MAX_FUNCTION_LINES))).toEqual([]);
  });
});
