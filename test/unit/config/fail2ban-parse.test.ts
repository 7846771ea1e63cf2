import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseFail2banFile, stringifyFail2banFile } from '../../../src/config/fail2ban/parse.js';

const CORPUS: Record<string, string> = {
  crlf: '[DEFAULT]\r\nignoreip = 127.0.0.1/8 ::1\r\n\r\n[sshd]\r\nenabled = true\r\n',
  loneCr: '[sshd]\rmaxretry = 3\rbantime: 1h\r',
  continuation: '[DEFAULT]\nignoreip = 127.0.0.1/8\n    10.0.0.0/8\n\n\t192.0.2.7 ; lab\n# done\nbantime=10m',
  oddSpacing: '  [sshd]  \n   enabled   :   true   \nmaxretry=5;not a comment\nfindtime = 10m   ;  a comment\n\t\n',
  noFinalNewline: '[sshd]\nenabled = true',
  bomAndTabs: '\ufeff# header\n[DEFAULT]\n\tkey = v\n',
  empty: '',
  onlyComments: '# a\n; b\n   # c\n',
  mixedEndings: '[a]\nx = 1\r\ny = 2\rz = 3\n',
};

describe('fail2ban parser: lossless round trip', () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    it(`round-trips ${name} byte for byte`, () => {
      assert.equal(stringifyFail2banFile(parseFail2banFile(text, '/etc/fail2ban/jail.local')), text);
    });
  }

  it('round-trips arbitrary text over the dialect\'s special characters (property)', () => {
    const chars = fc.constantFrom('[', ']', '=', ':', ';', '#', ' ', '\t', '\r', '\n', '%', '(', ')', 's', 'a', 'k', '1', '/');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 120 }).map((a) => a.join('')), (text) => stringifyFail2banFile(parseFail2banFile(text, '/x')) === text),
      { numRuns: 2000 },
    );
  });
});

describe('fail2ban parser: reading as configparser does', () => {
  const options = (text: string): Record<string, string> => {
    const f = parseFail2banFile(text, '/x');
    return Object.fromEntries(f.sections.flatMap((s) => s.options.map((o) => [`${s.name}.${o.key}`, o.value])));
  };

  it('takes `;` after white space as an inline comment, `#` never', () => {
    assert.deepEqual(options('[sshd]\nignoreip = 10.0.0.1 # office ; the office\nport = a;b\n'), { 'sshd.ignoreip': '10.0.0.1 # office', 'sshd.port': 'a;b' });
  });

  it('joins continuation lines, keeps a blank line inside a value, drops trailing ones', () => {
    assert.deepEqual(options('[DEFAULT]\nignoreip = a\n  b\n\n  c\n\nx = 1\n'), { 'DEFAULT.ignoreip': 'a\nb\n\nc', 'DEFAULT.x': '1' });
  });

  it('reads a line indented deeper than its option as a continuation, even when it looks like a header', () => {
    assert.deepEqual(options('[a]\nk = 1\n  [b]\n'), { 'a.k': '1\n[b]' });
  });

  it('splits at the first = or :, lower-cases keys, reads both separators', () => {
    assert.deepEqual(options('[a]\nKey: v=w\nother = x:y\n'), { 'a.key': 'v=w', 'a.other': 'x:y' });
  });

  it('skips comment lines inside a continued value', () => {
    assert.deepEqual(options('[a]\nk = 1\n  # not a value\n  2\n'), { 'a.k': '1\n2' });
  });

  it('refuses what fail2ban refuses, with the line and column', () => {
    const cases: [string, string, number][] = [
      ['[a]\nk = 1\nk = 2\n', 'fail2ban-duplicate-option', 3],
      ['[a]\n[a]\n', 'fail2ban-duplicate-section', 2],
      ['k = 1\n', 'fail2ban-missing-section', 1],
      ['[a]\njust words\n', 'fail2ban-syntax', 2],
    ];
    for (const [text, code, line] of cases) {
      const d = parseFail2banFile(text, '/etc/fail2ban/jail.local').diagnostics;
      assert.equal(d[0]?.code, code, text);
      assert.equal(d[0]?.range?.start.line, line, text);
      assert.equal(d[0]?.file, '/etc/fail2ban/jail.local');
    }
    assert.deepEqual(parseFail2banFile('[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n', '/x').diagnostics, []);
  });
});
