// Reading the deployed manifests of the N-database app: the library's own reader of cdk8s's YAML
// (lib/plan/yaml-reader.ts) against the maintained `yaml` package (the direct dependency in
// node_modules/yaml), on the same code path (lib/plan/baseline.ts: only the guarded kinds, of a
// StatefulSet's pod template only the images), and a plain full parse of every file with it.
//   node --expose-gc out/tools/bench/yaml-reader.js <dir with the app's manifests> [rounds=5]
// Prints one JSON line: best ms of each way, and whether they read the same objects.
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { isDeepStrictEqual } from 'util';
import * as YAML from 'yaml';
import { loadBaseline, manifestFiles, objectKey } from '../../lib/plan/baseline';
import * as reader from '../../lib/plan/yaml-reader';

const gc = (): void => (globalThis as any).gc?.();

function best<T>(rounds: number, fn: () => T): { ms: number; value: T } {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < rounds; i++) {
    gc();
    const t0 = performance.now();
    value = fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, value };
}

/** `loadBaseline` with the document parser swapped for `parse` (the module's export, looked up at each call). */
function withParser<T>(parse: (text: string) => any, fn: () => T): T {
  const mod = reader as { parseDocument: (text: string) => any };
  const own = mod.parseDocument;
  mod.parseDocument = parse;
  try {
    return fn();
  } finally {
    mod.parseDocument = own;
  }
}

function main(): void {
  const [dir, roundsArg] = process.argv.slice(2);
  const rounds = Number(roundsArg ?? 5);
  const yamlPackage = (text: string) => YAML.parse(text, { version: '1.1' });
  const own = best(rounds, () => loadBaseline(dir));
  const maintained = best(rounds, () => withParser(yamlPackage, () => loadBaseline(dir)));
  const full = best(rounds, () => {
    const out = new Map<string, any>();
    for (const f of manifestFiles(dir)) {
      for (const d of YAML.parseAllDocuments(fs.readFileSync(f, 'utf-8'), { version: '1.1' })) {
        const o = d.toJS();
        if (o) out.set(objectKey(o), o);
      }
    }
    return out;
  });
  const same = own.value.size === maintained.value.size &&
    [...own.value].every(([k, v]) => isDeepStrictEqual(v, maintained.value.get(k)));
  process.stdout.write(JSON.stringify({
    guardedObjects: own.value.size,
    allObjects: full.value.size,
    ownReaderMs: own.ms,
    yamlPackageMs: maintained.ms,
    yamlPackageAllDocumentsMs: full.ms,
    sameObjects: same,
  }) + '\n');
}

main();
