import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Yaml } from 'cdk8s';
import * as fc from 'fast-check';
import { libraryApp } from '../tools/bench/fixture';
import { ChangeGuard } from '../lib';
import { layoutDocument, saveDocuments, stringifyDocuments, stringifyPieces, withYamlWriter } from '../lib/plan/yaml-writer';
import { yamlPackage } from '../lib/plan/yaml-reader';

// cdk8s's own writer, before any synth could have replaced it
const cdk8sStringify: (...docs: unknown[]) => string = Yaml.stringify;
const cdk8sSave: (file: string, docs: unknown[]) => void = Yaml.save;

describe('the YAML writer', () => {
  const dist = path.join(__dirname, '..', 'dist');
  const docs: unknown[] = fs.readdirSync(dist).flatMap((f) =>
    yamlPackage().parseAllDocuments(fs.readFileSync(path.join(dist, f), 'utf-8'), { version: '1.1' }).map((d: any) => d.toJSON()));

  test('writes every document of dist/ byte for byte as cdk8s does, laying out all of them itself', () => {
    expect(docs.length).toBeGreaterThan(40);
    for (const doc of docs) {
      expect(layoutDocument(doc)).toBe(cdk8sStringify(doc));
    }
    expect(stringifyDocuments(...docs)).toBe(cdk8sStringify(...docs));
  });

  test('writes the bench\'s app byte for byte as cdk8s does', () => {
    const outdir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'yaml-writer-'));
    const objects = Object.values(libraryApp(20, outdir).charts[0].toJson());
    expect(stringifyDocuments(...objects)).toBe(cdk8sStringify(...objects));
    expect(objects.every((o) => layoutDocument(o) !== undefined)).toBe(true);
  });

  test('equals cdk8s\'s writer on random documents, scalars YAML 1.1 reads as other types included', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('a', ' ', ':', '#', '-', '\n', '\'', '"', '%', '.', '|', '>', '\t', 'é', '\u0007', '/') }),
      fc.constantFrom('yes', 'no', 'on', 'Off', 'y', 'N', '0755', '0x1F', '1:20', '10.0.0.1', '2026-01-01', '-U', '~', 'null', 'NULL', '1e3', '.5', '.inf', '<<',
        "it's", '"q"', 'a: b', 'x #y', '---', '--- x', '...', 'a\n---\nb', '%TAG', 'line\n', '\nlead', ' lead', 'trail ', 'a\n\n\nb\n\n', 'tab\there', '', '-', '?', 'http://x/y', 'k=v', 'a'.repeat(1100)));
    const scalar = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(-0), fc.constant(undefined));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(text, tie('node'), { maxKeys: 3 })),
    })).node;
    fc.assert(fc.property(fc.array(fc.oneof(fc.dictionary(text, value, { maxKeys: 4 }), value), { minLength: 1, maxLength: 3 }), fc.boolean(), (documents, share) => {
      // now and then one object twice in a document, which the `yaml` package writes with an alias
      const first = documents[0];
      if (share && first !== null && typeof first === 'object' && !Array.isArray(first)) {
        const inner = Object.values(first).find((x) => x !== null && typeof x === 'object');
        if (inner) (first as any)['shared twice'] = inner;
      }
      expect(stringifyDocuments(...documents)).toBe(cdk8sStringify(...documents));
    }), { numRuns: 3000 });
  });

  test('lays out nested sequences, empty collections, quoted keys and block scalars itself', () => {
    const doc = { 'a': [[1, 'x y', [2.5, { k: 'v' }]], {}, [], { 'b c': 'multi\n  line\n\nend\n', 'yes': 'no' }], 'on': { s: ' lead\nx', t: '' } };
    expect(layoutDocument(doc)).toBe(cdk8sStringify(doc));
  });

  test('leaves an object met twice in a document to cdk8s\'s writer, which writes an anchor and aliases', () => {
    const labels = { app: 'db' };
    const doc = { metadata: { labels }, spec: { selector: labels, list: [labels] } };
    expect(layoutDocument(doc)).toBeUndefined();
    expect(stringifyDocuments(doc)).toBe(cdk8sStringify(doc));
    expect(stringifyDocuments(doc)).toContain('*a1');
    // the same values, not the same objects: laid out
    const copy = JSON.parse(JSON.stringify(doc));
    expect(layoutDocument(copy)).toBe(cdk8sStringify(copy));
  });

  test('is cdk8s\'s writer again after a synth, also after a failed one', () => {
    expect(withYamlWriter(() => [Yaml.stringify, Yaml.save])).toEqual([stringifyDocuments, saveDocuments]);
    expect(Yaml.stringify).toBe(cdk8sStringify);
    expect(Yaml.save).toBe(cdk8sSave);
    expect(() => withYamlWriter(() => { throw new Error('boom'); })).toThrow('boom');
    expect(Yaml.stringify).toBe(cdk8sStringify);
    expect(Yaml.save).toBe(cdk8sSave);
  });

  test('saves a file in pieces, byte for byte as cdk8s\'s Yaml.save', () => {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'yaml-save-'));
    // several pieces of about a megabyte, non-ASCII text, undefined documents, none at all
    const big = Array.from({ length: 3000 }, (_, i) => ({ kind: 'ConfigMap', metadata: { name: `c-${i}` }, data: { text: `é ${'x'.repeat(900)} ${i}\n` } }));
    const cases: unknown[][] = [[], [undefined], [...docs, undefined, ...docs], [...big, undefined, { a: 'ü' }]];
    for (const set of cases) {
      const [mine, theirs] = [path.join(dir, 'mine.yaml'), path.join(dir, 'theirs.yaml')];
      fs.writeFileSync(mine, 'longer text that the save must truncate '.repeat(100_000));
      saveDocuments(mine, set);
      cdk8sSave.call(Yaml, theirs, set);
      expect(fs.readFileSync(mine).equals(fs.readFileSync(theirs))).toBe(true);
    }
    expect(stringifyPieces(big).length).toBeGreaterThan(2);
    expect(stringifyPieces(big).join('')).toBe(cdk8sStringify(...big));
  });

  test('an app with the guard attached writes its files with it, the same bytes as without', () => {
    const write = (guarded: boolean) => {
      const outdir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'yaml-writer-'));
      const app = new App({ outdir });
      if (guarded) ChangeGuard.attach(app);
      const chart = new Chart(app, 'c');
      let used: unknown;
      Object.defineProperty(chart, 'toJson', { value: () => { used = Yaml.stringify; return docs; } });
      app.synth();
      expect(Yaml.stringify).toBe(cdk8sStringify);
      return { text: fs.readFileSync(path.join(outdir, 'c.k8s.yaml'), 'utf-8'), used };
    };
    const guarded = write(true);
    const plain = write(false);
    expect(guarded.used).toBe(stringifyDocuments);
    expect(plain.used).toBe(cdk8sStringify);
    expect(guarded.text).toBe(plain.text);
  });
});
