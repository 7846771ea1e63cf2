import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseSshdConfig, stringifySshdConfig } from '../../../src/config/sshd/parse.js';
import { listFixtures, loadSnapshot, SSHD_FIXTURES } from './fixtures.js';

describe('parseSshdConfig', () => {
  it('round-trips every corpus file byte for byte', () => {
    let count = 0;
    for (const name of listFixtures(SSHD_FIXTURES)) {
      for (const [path, text] of loadSnapshot(join(SSHD_FIXTURES, name)).files) {
        assert.equal(stringifySshdConfig(parseSshdConfig(text, path)), text, path);
        count++;
      }
    }
    assert.ok(count >= 15, `corpus too small: ${count}`);
  });

  it('round-trips odd text: CRLF, no final newline, tabs, lone CR, empty', () => {
    for (const text of ['', '\n', 'Port 22', 'Port 22\r\n\r\n', '\tPort\t=\t22 # c\r\nX "a b" \'c\'\n', 'A\rB\n', '#only comment']) {
      assert.equal(stringifySshdConfig(parseSshdConfig(text, '/x')), text);
    }
  });

  it('reads keywords, separators, quotes and trailing comments as sshd does', () => {
    const f = parseSshdConfig('  Port=22\nX11Forwarding = yes # on\nBanner "/etc/my banner" #c\nPort 22#x\n#Match User x\nForceCommand /bin/echo "a b" # kept\n', '/x');
    const [port, x11, banner, hash, comment, force] = f.lines;
    assert.equal(port!.keyword, 'Port');
    assert.deepEqual(port!.args!.map((a) => a.value), ['22']);
    assert.deepEqual(x11!.args!.map((a) => a.value), ['yes']);
    assert.equal(x11!.commentStart, x11!.text.indexOf('#'));
    assert.deepEqual(banner!.args!.map((a) => a.value), ['/etc/my banner']);
    assert.deepEqual(hash!.args!.map((a) => a.value), ['22#x']);
    assert.equal(comment!.kind, 'comment');
    assert.equal(force!.rest, '/bin/echo "a b" # kept');
  });

  it('flags lines sshd cannot read', () => {
    const f = parseSshdConfig('Port\nBanner "unterminated\n', '/x');
    assert.equal(f.lines[0]!.problem, 'missing-argument');
    assert.equal(f.lines[1]!.problem, 'unbalanced-quotes');
  });
});
