import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryPosition, parseHostsAccess, stringifyHostsAccess } from '../../../src/config/hosts-access/parse.js';
import { CORPUS } from './hosts-access-corpus.js';

describe('parseHostsAccess', () => {
  it('round-trips every corpus file byte for byte', () => {
    for (const [name, text] of Object.entries(CORPUS)) assert.equal(stringifyHostsAccess(parseHostsAccess(text, '/etc/hosts.allow')), text, name);
  });

  it('round-trips arbitrary text, lone CRs and backslashes included', () => {
    const pieces = ['sshd', ':', ' ', '\\', '\n', '\r', '#', '[', ']', ',', 'ALL', 'EXCEPT', '10.0.0.1', '\t', 'é'];
    let seed = 7;
    for (let n = 0; n < 300; n++) {
      let text = '';
      for (let k = 0; k < 30; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        text += pieces[seed % pieces.length];
      }
      assert.equal(stringifyHostsAccess(parseHostsAccess(text, '/x')), text, JSON.stringify(text));
    }
  });

  it('splits daemons, clients and options, brackets kept whole', () => {
    const [e] = parseHostsAccess('sshd, in.telnetd : [2001:db8::1] 10.0.0.0/8 EXCEPT 10.1.0.0/16 : spawn a\\: b : DENY\n', '/x').entries;
    assert.equal(e!.kind, 'rule');
    assert.deepEqual(e!.daemons.map((t) => t.value), ['sshd', 'in.telnetd']);
    assert.deepEqual(e!.clients.map((t) => t.value), ['[2001:db8::1]', '10.0.0.0/8', 'EXCEPT', '10.1.0.0/16']);
    assert.equal(e!.options!.text, ' spawn a\\: b : DENY');
  });

  it('joins continuation lines into one entry and keeps item positions on their own lines', () => {
    const f = parseHostsAccess('# top\nsshd: 192.0.2.1 \\\n  192.0.2.2\nALL: ALL\n', '/x');
    const e = f.entries[1]!;
    assert.equal(e.line, 2);
    assert.equal(e.lastLine, 3);
    assert.equal(e.logical, 'sshd: 192.0.2.1   192.0.2.2');
    const second = e.clients[1]!;
    assert.deepEqual(entryPosition(e, second.start), { line: 3, column: 3 });
    assert.deepEqual(entryPosition(e, e.clients[0]!.start), { line: 2, column: 7 });
    assert.equal(f.entries[2]!.line, 4);
  });

  it('reads a comment only when # is the first character, and continues comments too', () => {
    const f = parseHostsAccess('# c \\\nsshd: 10.0.0.1\n  # sshd: 10.0.0.2\nsshd: 10.0.0.3 # note\n', '/x');
    assert.equal(f.entries[0]!.kind, 'comment');
    assert.equal(f.entries[0]!.lastLine, 2);
    assert.equal(f.entries[1]!.kind, 'rule');
    assert.deepEqual(f.entries[1]!.daemons.map((t) => t.value), ['#', 'sshd']);
    assert.deepEqual(f.entries[2]!.clients.map((t) => t.value), ['10.0.0.3', '#', 'note']);
  });

  it('flags entries libwrap does not read as rules', () => {
    const f = parseHostsAccess('sshd 10.0.0.1\nsshd: 10.0.0.2\r\nsshd: x \\\r\nALL: ALL', '/x');
    assert.deepEqual(
      f.entries.map((e) => [e.kind, e.problem ?? '']),
      [
        ['ignored', 'missing-separator'],
        ['rule', ''],
        ['rule', ''],
        ['ignored', 'missing-newline'],
      ],
    );
    assert.equal(f.entries[2]!.lastLine, 3, 'a backslash before CRLF does not continue the line');
    const cont = parseHostsAccess('sshd: 10.0.0.1 \\\n', '/x').entries;
    assert.equal(cont[0]!.problem, 'missing-newline');
    const long = parseHostsAccess(`sshd: ${'10.0.0.1 '.repeat(300)}\n`, '/x').entries;
    assert.equal(long[0]!.problem, 'entry-too-long');
  });
});
