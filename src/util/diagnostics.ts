/**
 * Diagnostics: problems in user input (inventory, playbooks, config files, flags), returned as
 * values and rendered the same way in every output format. Positions are 1-based.
 */

export type Severity = 'error' | 'warning';

/** A 1-based line and column (column counts UTF-16 code units, as editors do). */
export interface SourcePosition {
  line: number;
  column: number;
}

export interface SourceRange {
  start: SourcePosition;
  end: SourcePosition;
}

export interface Diagnostic {
  severity: Severity;
  /** Stable, kebab-case identifier (tests assert it; wording may change). */
  code: string;
  /** One-line summary. */
  message: string;
  /** What to do about it, when there is something useful to say. */
  hint?: string;
  /** The file the problem is in, as the user named it. */
  file?: string;
  range?: SourceRange;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function errorCount(diagnostics: readonly Diagnostic[]): number {
  return diagnostics.filter((d) => d.severity === 'error').length;
}

/** A diagnostic that stops a command: thrown only across the CLI boundary, never inside the core. */
export class UserInputError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('; '));
    this.name = 'UserInputError';
    this.diagnostics = diagnostics;
  }
}
