import * as fs from 'fs';
import { Yaml } from 'cdk8s';
import { yamlPackage } from './yaml-reader';

/**
 * The YAML cdk8s writes, without the `yaml` package's document model.
 *
 * cdk8s serializes every object with `YAML.stringify(obj, { keepUndefined: true, lineWidth: 0,
 * version: '1.1' })`: a Document, a node per value and a schema look-up per scalar, two thirds of
 * a synth's time (tools/bench/README.md). The documents of Kubernetes objects are plain JSON maps, so
 * their block layout is fixed: this writer lays them out itself and leaves each scalar it cannot
 * prove plain to the `yaml` package (the copy cdk8s bundles), asked once per distinct scalar.
 * Anything outside that subset (a document that is not a map, `undefined` values, an object met
 * twice, a scalar the package writes over several lines other than as a block scalar) goes to cdk8s's own
 * `Yaml.stringify` whole. The output is byte for byte cdk8s's: test/yaml-writer.test.ts compares
 * the two on every example, the bench's app and random documents.
 */

const OPTIONS = { keepUndefined: true, lineWidth: 0, version: '1.1' };
/** Strings the `yaml` package writes plain in every block context: no indicator first, no space, no `:` last, no YAML 1.1 word (those are 5 characters at most). */
const PLAIN = /^[A-Za-z/][\w./=+:-]*[\w./=+-]$/;
/** The `yaml` package's document markers, which it writes differently by depth. */
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/m;
const OUTSIDE = new Error('outside the writer\'s subset');

/** Scalars as the `yaml` package writes them, by context, asked once each. */
const scalars = { key: new Map<unknown, string>(), value: new Map<unknown, string>(), item: new Map<unknown, string>() };
type Context = keyof typeof scalars;
/** How the `yaml` package writes a scalar in each context, and what comes after it. */
const PROBES: { [c in Context]: { wrap: (v: unknown) => unknown; before: string; after: string } } = {
  key: { wrap: (v) => ({ [v as string]: null }), before: '', after: ': null\n' },
  value: { wrap: (v) => ({ k: v }), before: 'k: ', after: '\n' },
  item: { wrap: (v) => [v], before: '- ', after: '\n' },
};
/** Distinct scalars asked per context before the cache stops growing (names unique to one object need not stay). */
const CACHE_LIMIT = 50_000;

/** Documents laid out ahead of the write (by the guard, to compare them), handed to it once. */
const AHEAD = new WeakMap<object, string>();

/** One document as cdk8s's `Yaml.stringify` writes it. @internal */
export function stringifyDocument(doc: unknown): string {
  const ahead = typeof doc === 'object' && doc !== null ? AHEAD.get(doc) : undefined;
  if (ahead !== undefined) {
    AHEAD.delete(doc as object);
    return ahead;
  }
  return layoutDocument(doc) ?? ORIGINAL.call(Yaml, doc);
}

/**
 * A document laid out now, and handed to the write of the same object (unchanged by then: the
 * guard compares after every construct is built); undefined when outside the writer's subset.
 * @internal
 */
export function renderOnce(doc: object): string | undefined {
  const text = layoutDocument(doc);
  if (text !== undefined) AHEAD.set(doc, text);
  return text;
}

/** A document laid out by this writer, or undefined when it is outside the writer's subset. @internal */
export function layoutDocument(doc: unknown): string | undefined {
  if (!isMap(doc)) return undefined;
  const keys = Object.keys(doc);
  if (keys.length === 0) return undefined;
  const out: string[] = [];
  seen = new Set([doc]);
  try {
    writeMap(doc, keys, '', '', out);
  } catch (e) {
    if (e === OUTSIDE) return undefined;
    throw e;
  } finally {
    seen = undefined;
  }
  return out.join('');
}

/** cdk8s's `Yaml.stringify` (the documents joined by `---`), with this writer. @internal */
export function stringifyDocuments(...docs: unknown[]): string {
  return docs.map((d) => (d === undefined ? '\n' : stringifyDocument(d))).join('---\n');
}

/** Characters of YAML joined into one piece of a file before the next piece starts. */
const PIECE = 1 << 20;

/**
 * A file's text as cdk8s's `Yaml.save` writes it (`Yaml.stringify` of the documents), in pieces of
 * about a megabyte: the same characters as the one string, joined. @internal
 */
export function stringifyPieces(docs: unknown[]): string[] {
  const pieces: string[] = [];
  let parts: string[] = [];
  let length = 0;
  docs.forEach((d, i) => {
    const text = (i > 0 ? '---\n' : '') + (d === undefined ? '\n' : stringifyDocument(d));
    parts.push(text);
    length += text.length;
    if (length >= PIECE) {
      pieces.push(parts.join(''));
      parts = [];
      length = 0;
    }
  });
  if (parts.length > 0 || pieces.length === 0) pieces.push(parts.join(''));
  return pieces;
}

/**
 * cdk8s's `Yaml.save` (`writeFileSync` of `Yaml.stringify`), with this writer and without the
 * file's text as one string: for thousands of objects that string, the array of its documents'
 * texts and the UTF-8 copy `writeFileSync` makes are each as large as the file, and all alive at
 * the write (tools/bench/README.md). Every document is laid out before the file is opened, as before.
 * @internal
 */
export function saveDocuments(filePath: string, docs: unknown[]): void {
  const pieces = stringifyPieces(docs);
  const fd = fs.openSync(filePath, 'w');
  try {
    for (const piece of pieces) {
      const bytes = Buffer.from(piece, 'utf8');
      for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at, bytes.length - at);
    }
  } finally {
    fs.closeSync(fd);
  }
}

const ORIGINAL: (...docs: unknown[]) => string = Yaml.stringify;
const ORIGINAL_SAVE: (filePath: string, docs: unknown[]) => void = Yaml.save;

/**
 * Runs `synth` with cdk8s's `Yaml.stringify` and `Yaml.save` replaced by this writer, and puts them
 * back after. Synthesis is synchronous: nothing else runs in between.
 * @internal
 */
export function withYamlWriter<T>(synth: () => T): T {
  if (Yaml.stringify !== ORIGINAL || Yaml.save !== ORIGINAL_SAVE) return synth(); // nested, or replaced by someone else
  Yaml.stringify = stringifyDocuments;
  Yaml.save = saveDocuments;
  try {
    return synth();
  } finally {
    Yaml.stringify = ORIGINAL;
    Yaml.save = ORIGINAL_SAVE;
  }
}

function isMap(v: unknown): v is { [key: string]: unknown } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A map's pairs at `indent`; its first line starts with `first` (`- ` when it is a sequence item). */
function writeMap(map: { [key: string]: unknown }, keys: string[], indent: string, first: string, out: string[]): void {
  let lead = first || indent;
  for (const key of keys) {
    const k = scalar(key, 'key', '');
    const v = map[key];
    if (typeof v === 'object' && v !== null) {
      writeCollection(v, `${lead}${k}:`, indent, out);
    } else {
      out.push(`${lead}${k}: ${scalar(v, 'value', indent)}\n`);
    }
    lead = indent;
  }
}

/**
 * The maps and sequences of the document being laid out: the `yaml` package writes an object met
 * twice as an anchor and aliases, which this writer leaves to it.
 */
let seen: Set<object> | undefined;

/** A map's or sequence's value after `head` (`key:` or `-`): `{}`/`[]` inline, else on the next lines. */
function writeCollection(v: object, head: string, indent: string, out: string[]): void {
  if (seen!.has(v)) throw OUTSIDE;
  seen!.add(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) out.push(`${head} []\n`);
    else if (head.endsWith('-')) writeSeq(v, inner, `${head.slice(0, -1)}- `, out); // nested sequence: `- - a`
    else { out.push(`${head}\n`); writeSeq(v, inner, '', out); }
    return;
  }
  if (!isMap(v)) throw OUTSIDE;
  const keys = Object.keys(v);
  if (keys.length === 0) out.push(`${head} {}\n`);
  else if (head.endsWith('-')) writeMap(v, keys, inner, `${head.slice(0, -1)}- `, out);
  else { out.push(`${head}\n`); writeMap(v, keys, inner, '', out); }
}

/** A sequence's items at `indent` (`- ` each); its first line starts with `first` when given. */
function writeSeq(items: unknown[], indent: string, first: string, out: string[]): void {
  let lead = first || indent;
  for (let i = 0; i < items.length; i++) {
    if (!(i in items)) throw OUTSIDE; // a hole
    const v = items[i];
    if (typeof v === 'object' && v !== null) writeCollection(v, `${lead}-`, indent, out);
    else out.push(`${lead}- ${scalar(v, 'item', indent)}\n`);
    lead = indent;
  }
}

/** A scalar as the `yaml` package writes it in `context` at `indent`. */
function scalar(v: unknown, context: Context, indent: string): string {
  if (typeof v === 'string') {
    if (v.length > 5 && (context !== 'key' || v.length < 1000) && PLAIN.test(v)) return v;
    if (DOCUMENT_MARKER.test(v)) throw OUTSIDE; // written differently at the top level and below it
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
  } else if (typeof v === 'boolean') {
    return v ? 'true' : 'false';
  } else if (v === null) {
    return 'null';
  } else {
    throw OUTSIDE; // undefined, functions, symbols, bigints: cdk8s's own writer decides
  }
  const cache = scalars[context];
  let text = cache.get(v);
  if (text === undefined) {
    text = ask(v, context);
    if (cache.size < CACHE_LIMIT) cache.set(v, text);
  }
  return indent === '' || !text.includes('\n') ? text : text.replace(/\n(?!\n|$)/g, `\n${indent}`);
}

/**
 * The `yaml` package's text for a scalar, taken from a one-pair map or one-item sequence.
 * Several lines only as a block scalar (`|`, `>`) whose lines are relative to the parent's
 * indentation; anything else is outside the subset.
 */
function ask(v: unknown, context: Context): string {
  if (typeof v === 'number' && Object.is(v, -0)) throw OUTSIDE; // a Map key cannot tell -0 from 0
  const probe = PROBES[context];
  const written: string = yamlPackage().stringify(probe.wrap(v), OPTIONS);
  if (!written.startsWith(probe.before) || !written.endsWith(probe.after)) throw OUTSIDE;
  const text = written.slice(probe.before.length, written.length - probe.after.length);
  if (!text.includes('\n')) return text;
  if (context === 'key' || !/^[|>][-+0-9]*\n/.test(text)) throw OUTSIDE;
  const lines = text.split('\n').slice(1);
  if (lines.some((l) => l !== '' && !l.startsWith('  '))) throw OUTSIDE;
  return text;
}
