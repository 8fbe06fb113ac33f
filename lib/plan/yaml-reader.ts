import * as path from 'path';

/**
 * Reads the YAML that cdk8s writes (block style, two-space indentation, one scalar per line)
 * about twenty times faster than a general parser, so that comparing a synth with the manifests
 * already deployed stays cheap for thousands of databases (tools/bench/README.md). Anything outside that
 * shape (block scalars, anchors, flow collections, YAML 1.1 values such as `yes`, octal numbers or
 * timestamps) is handed to the `yaml` package cdk8s itself bundles, with cdk8s's YAML 1.1 schema,
 * so the result always equals a full parse; a test checks it on every example, the benchmark's
 * app and random documents.
 * @internal
 */
export function parseDocument(text: string): any {
  const fast = fastParse(text);
  return fast === FALLBACK ? fullParse(text) : fast;
}

/** The fast reader alone: the document, or `FALLBACK` when it is outside the subset. @internal */
export function fastParse(text: string): any {
  try {
    return new Reader(text).document();
  } catch (e) {
    if (e !== FALLBACK) throw e;
    return FALLBACK;
  }
}

/** One plain or quoted scalar as it stands after `key: ` on a line (`10Gi`, `"1"`, `'a b'`), parsed as a full parse would. @internal */
export function parseScalar(text: string): any {
  try {
    return scalar(text);
  } catch (e) {
    if (e !== FALLBACK) throw e;
    return fullParse(`v: ${text}`).v;
  }
}

/** Splits a multi-document YAML text into its documents' texts (cdk8s separates them with `---`). @internal */
export function splitDocuments(text: string): string[] {
  return text.split(/^---[ \t]*(?:\n|$)/m).filter((d) => d.trim() !== '');
}

/** The general parser, with cdk8s's options. @internal */
export function fullParse(text: string): any {
  return yamlPackage().parse(text, { version: '1.1' });
}

let yamlModule: any;
function yamlPackage(): any {
  if (!yamlModule) {
    // the copy cdk8s bundles (bundledDependencies), which wrote the files
    const cdk8sDir = path.dirname(require.resolve('cdk8s/package.json'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    yamlModule = require(require.resolve('yaml', { paths: [cdk8sDir] }));
  }
  return yamlModule;
}

/** What `fastParse` answers for a document outside the subset. @internal */
export const FALLBACK = new Error('not in the fast subset');

// YAML 1.1 plain scalars that are not strings (the tests of the `yaml` package's 1.1 schema):
// booleans, nulls, numbers in any base, sexagesimals, timestamps, the merge key
const SPECIAL_WORD = /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON|N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF|~|[Nn]ull|NULL|<<)$/;
const SIMPLE_INT = /^-?(0|[1-9][0-9]*)$/;
const SIMPLE_FLOAT = /^-?(0|[1-9][0-9]*)\.[0-9]+$/;
const NUMBER_LIKE = new RegExp([
  /^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/,
  /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/,
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/,
  /^[-+]?0b[0-1_]+$|^[-+]?0[0-7_]+$|^[-+]?[0-9][0-9_]*$|^[-+]?0x[0-9a-fA-F_]+$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/,
].map((r) => r.source).join('|'));

class Reader {
  private readonly lines: string[];
  private i = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
    while (this.lines.length > 0 && this.lines[this.lines.length - 1].trim() === '') this.lines.pop();
  }

  public document(): any {
    if (this.lines.length === 0) return null;
    const value = this.block(0);
    if (this.i !== this.lines.length) throw FALLBACK;
    return value;
  }

  private indentOf(line: string): number {
    let n = 0;
    while (line.charCodeAt(n) === 32) n++;
    if (line.charCodeAt(n) === 9 || line.charCodeAt(n) === 35 /* # */ || n === line.length) throw FALLBACK;
    return n;
  }

  private block(indent: number): any {
    const line = this.lines[this.i];
    return line.startsWith('- ', indent) || line.length === indent + 1 && line.endsWith('-') ? this.sequence(indent) : this.map(indent);
  }

  private map(indent: number): any {
    const out: { [key: string]: unknown } = {};
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      const at = this.indentOf(line);
      if (at < indent) break;
      if (at > indent || line.startsWith('- ', at)) throw FALLBACK;
      const colon = keyEnd(line, at);
      const key = line.slice(at, colon);
      if (key === '<<' || key in out) throw FALLBACK;
      const rest = line.slice(colon + 1).trimStart();
      this.i++;
      out[key] = rest === '' ? this.nested(indent) : scalar(rest);
    }
    return out;
  }

  /** The value of a key with nothing after its colon: a deeper block, a sequence at the same indentation, or null. */
  private nested(indent: number): any {
    if (this.i >= this.lines.length) return null;
    const line = this.lines[this.i];
    const at = this.indentOf(line);
    if (at > indent) return this.block(at);
    if (at === indent && line.startsWith('- ', at)) return this.sequence(at);
    return null;
  }

  private sequence(indent: number): any[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      const at = this.indentOf(line);
      if (at < indent || !(line.startsWith('- ', at))) {
        if (at > indent) throw FALLBACK;
        break;
      }
      const content = line.slice(at + 2);
      if (content.startsWith(' ')) throw FALLBACK;
      if (content.startsWith('- ') || isMapEntry(content)) {
        // the item's first line, re-read as a line of a block two columns deeper
        this.lines[this.i] = ' '.repeat(at + 2) + content;
        out.push(this.block(at + 2));
      } else {
        this.i++;
        out.push(scalar(content));
      }
    }
    return out;
  }
}

/** Where a `key: value` line's key ends (its colon), or the fallback. */
function keyEnd(line: string, from: number): number {
  const c = line.charCodeAt(from);
  // quoted keys, complex keys, anchors, tags, aliases
  if (c === 34 || c === 39 || c === 63 || c === 38 || c === 33 || c === 42 || c === 123 || c === 91) throw FALLBACK;
  const colon = line.indexOf(':', from);
  if (colon < 0 || (colon + 1 < line.length && line.charCodeAt(colon + 1) !== 32)) throw FALLBACK;
  return colon;
}

function isMapEntry(content: string): boolean {
  const c = content.charCodeAt(0);
  if (c === 34 || c === 39) return false; // a quoted scalar (a quoted key falls back in keyEnd)
  return content.includes(': ') || content.endsWith(':');
}

function scalar(text: string): any {
  const c = text.charCodeAt(0);
  if (c === 34 /* " */) {
    if (text.length < 2 || !text.endsWith('"') || /\\[^"\\/bfnrtu]/.test(text)) throw FALLBACK;
    try {
      return JSON.parse(text);
    } catch {
      throw FALLBACK;
    }
  }
  if (c === 39 /* ' */) {
    const inner = text.slice(1, -1);
    if (text.length < 2 || !text.endsWith("'") || inner.replace(/''/g, '').includes("'")) throw FALLBACK;
    return inner.replace(/''/g, "'");
  }
  if (text === '{}') return {};
  if (text === '[]') return [];
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  // numbers, sexagesimals and timestamps start with a digit, a sign or a dot
  const numeric = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
  if (numeric && SIMPLE_INT.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw FALLBACK;
    return n;
  }
  if (numeric && SIMPLE_FLOAT.test(text)) return Number(text);
  // indicators, comments, and every other YAML 1.1 type
  if ('&*!|>%@`{}[],#?:-'.includes(text[0]) && !/^-[^\s-]/.test(text) || text.includes(' #') || text.endsWith(' ') ||
      (text.length <= 5 && SPECIAL_WORD.test(text)) || (numeric && NUMBER_LIKE.test(text)) || text.includes(': ')) {
    throw FALLBACK;
  }
  return text;
}
