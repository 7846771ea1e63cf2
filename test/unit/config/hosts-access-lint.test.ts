import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lintHostsAccess } from '../../../src/config/hosts-access/lint.js';
import { parseHostsAccess } from '../../../src/config/hosts-access/parse.js';
import { CORPUS } from './hosts-access-corpus.js';

const lint = (text: string, table: 'allow' | 'deny' = 'allow') => lintHostsAccess(parseHostsAccess(text, `/etc/hosts.${table}`), table);
const codes = (text: string, table: 'allow' | 'deny' = 'allow'): string[] => lint(text, table).map((d) => d.code);

describe('lintHostsAccess', () => {
  it('finds nothing in clean files', () => {
    for (const name of ['empty', 'comments only', 'management only', 'deny all', 'paranoid deny', 'continuation', 'crlf', 'sshguard block', 'odd spacing']) {
      assert.deepEqual(codes(CORPUS[name]!), [], name);
    }
  });

  it('flags what libwrap skips or stops on, with its position', () => {
    const [sep] = lint('# x\nsshd 10.0.0.1\n');
    assert.equal(sep!.code, 'hosts-access-missing-separator');
    assert.equal(sep!.file, '/etc/hosts.allow');
    assert.deepEqual(sep!.range!.start, { line: 2, column: 1 });
    const [deny] = lint('sshd: 10.0.0.1\nALL: ALL', 'deny');
    assert.equal(deny!.code, 'hosts-access-missing-newline');
    assert.match(deny!.message, /refuses every client/);
    assert.match(lint('ALL: ALL')[0]!.message, /skips it/);
    assert.deepEqual(codes(`sshd: ${'10.0.0.1 '.repeat(300)}\n`), ['hosts-access-entry-too-long']);
  });

  it('flags a # that is no comment and a comment that swallows the next line', () => {
    const [hash] = lint('sshd: 10.0.0.1 # office\n');
    assert.equal(hash!.code, 'hosts-access-inline-comment');
    assert.deepEqual(hash!.range, { start: { line: 1, column: 16 }, end: { line: 1, column: 17 } });
    const [cont] = lint('# old \\\nsshd: 10.0.0.1\n');
    assert.equal(cont!.code, 'hosts-access-comment-continued');
    assert.match(cont!.message, /lines 2-2/);
  });

  it('flags option errors, bare IPv6 and networks that match nothing', () => {
    assert.deepEqual(codes('sshd: 10.0.0.1 : allow : spawn x\n'), ['hosts-access-bad-option']);
    assert.deepEqual(codes('sshd: 10.0.0.1 : spawn x : deny\n'), []);
    assert.deepEqual(codes('sshd: 2001:db8::1\n'), ['hosts-access-bare-ipv6']);
    const dead = lint('sshd: 10.0.0.0/8 10.1.0.0/8 0.0.0.0/0 10.0.0.1/255.255.255.255 10.0.0.0/255.0.0.0\n');
    assert.deepEqual(
      dead.map((d) => [d.code, d.range!.start.column]),
      [
        ['hosts-access-dead-network', 18],
        ['hosts-access-dead-network', 29],
        ['hosts-access-dead-network', 39],
      ],
    );
  });
});
