import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDiagnostics } from '../../../src/report/render-diagnostics.js';
import { loadPlaybook } from '../../../src/model/playbook.js';

describe('rendering diagnostics for a terminal', () => {
  it('quotes the line and underlines the range, then the hint', () => {
    const text = 'tasks:\n  - sshd:\n      sett: {}\n';
    const { diagnostics } = loadPlaybook(text, 'p.yaml');
    assert.equal(renderDiagnostics(diagnostics, { sources: new Map([['p.yaml', text]]) }), [
      'p.yaml:3:7: error[unknown-key]: unknown key "sett" in an sshd task',
      ' 3 |       sett: {}',
      '   |       ^^^^',
      '  hint: did you mean "set"?',
      '',
    ].join('\n'));
  });
  it('keeps tabs in front of the caret and never underlines past the line', () => {
    const out = renderDiagnostics(
      [{ severity: 'warning', code: 'x', message: 'm', file: 'f', range: { start: { line: 1, column: 3 }, end: { line: 1, column: 40 } } }],
      { sources: new Map([['f', '\t\tabc']]) },
    );
    assert.equal(out, 'f:1:3: warning[x]: m\n 1 | \t\tabc\n   | \t\t^^^\n');
  });
  it('renders a diagnostic without a file or range as one line', () => {
    assert.equal(renderDiagnostics([{ severity: 'error', code: 'no-inventory', message: 'no inventory' }]), 'error[no-inventory]: no inventory\n');
  });
});
