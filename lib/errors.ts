import { IConstruct } from 'constructs';

/**
 * The one error type the library throws for bad input.
 *
 * Every message names the construct (its kind and construct path), says what is wrong, the value
 * received, and how to fix it, so a failed `cdk8s synth` points straight at the line to change.
 *
 * TypeScript and JavaScript catch it by type (`err instanceof StatefulConfigError`). jsii cannot
 * model a subclass of `Error`, so the class is left out of the other languages' bindings: there
 * the error arrives as the runtime's own error type (Python: `RuntimeError`, Java:
 * `JsiiError`, Go: a panic) carrying the same full message, which starts with the construct kind
 * and path.
 *
 * @jsii ignore
 */
export class StatefulConfigError extends Error {
  /** The construct path of the construct whose input is wrong. */
  public readonly constructPath: string;

  constructor(scope: IConstruct, kind: string, message: string) {
    super(`${kind} '${scope.node.path}': ${message}`);
    this.name = 'StatefulConfigError';
    this.constructPath = scope.node.path;
  }
}

/**
 * Formats a received value for an error message: strings quoted, objects as JSON.
 * Internal: not exported from the package.
 */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // NaN, Infinity: JSON says null
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
