import type { Diagnostic } from '../util/diagnostics.js';

export interface RenderDiagnosticsOptions {
  /** Source texts by file name, to quote the offending line under each diagnostic. */
  sources?: ReadonlyMap<string, string>;
  color?: boolean;
}

const paint = (on: boolean, code: string, text: string): string => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/**
 * Renders diagnostics for a terminal or a log:
 *
 *     playbooks/x.yaml:4:7: error[unknown-key]: unknown key "sett" in an sshd task
 *        4 |     sett:
 *          |     ^^^^
 *       hint: did you mean "set"?
 */
export function renderDiagnostics(diagnostics: readonly Diagnostic[], options: RenderDiagnosticsOptions = {}): string {
  const color = options.color ?? false;
  const out: string[] = [];
  // Each file split into lines once: a large file with many diagnostics would otherwise be split
  // again for every one of them.
  const lines = new Map<string, string[]>();
  for (const d of diagnostics) {
    const where = d.file
      ? `${d.file}${d.range ? `:${d.range.start.line}:${d.range.start.column}` : ''}: `
      : '';
    const label = d.severity === 'error' ? paint(color, '31;1', 'error') : paint(color, '33;1', 'warning');
    out.push(`${where}${label}[${d.code}]: ${d.message}`);
    const text = d.file !== undefined ? options.sources?.get(d.file) : undefined;
    if (text !== undefined && d.range) {
      const fileLines = lines.get(d.file!) ?? text.split(/\r?\n/);
      lines.set(d.file!, fileLines);
      const lineText = fileLines[d.range.start.line - 1];
      if (lineText !== undefined) {
        const num = String(d.range.start.line);
        const gutter = ' '.repeat(num.length);
        const start = d.range.start.column;
        const sameLine = d.range.end.line === d.range.start.line;
        const available = Math.max(1, lineText.length - start + 1);
        const width = Math.min(available, Math.max(1, sameLine ? d.range.end.column - start : available));
        // Keep the line's own tabs in front of the caret so it lines up however tabs are shown.
        const lead = lineText.slice(0, Math.max(0, start - 1)).replace(/[^\t]/g, ' ');
        out.push(` ${num} | ${lineText}`);
        out.push(` ${gutter} | ${lead}${paint(color, '31', '^'.repeat(width))}`);
      }
    }
    if (d.hint) out.push(`  hint: ${d.hint}`);
  }
  return out.join('\n') + (out.length ? '\n' : '');
}
