import { IConstruct } from 'constructs';

/**
 * The one error type the library throws for bad input.
 *
 * Every message names the construct (its kind and construct path), says what is wrong, the value
 * received, and how to fix it, so a failed `cdk8s synth` points straight at the line to change.
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

/** Formats a received value for an error message: strings quoted, objects as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
