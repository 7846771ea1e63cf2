/**
 * The caches that make planning cheap (compiled wildcards, expanded algorithm lists, evaluations
 * per tree and options, lexed files) must never change a result: a cached answer equals a fresh
 * one, options that change the answer never share an entry, and nothing a cache hands out can
 * corrupt it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { lexLine, lexText, splitLines } from '../../../src/config/openssh/lexer.js';
import { sshdDefaultsFromDump, DEBIAN_12_DEFAULTS } from '../../../src/config/sshd/defaults.js';
import { editSshdConfigAll } from '../../../src/config/sshd/edit.js';
import { assembleAlgorithms, effectiveValue, evaluateSshdConfig, evaluateSshdConfigShared } from '../../../src/config/sshd/effective.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { matchWildcard } from '../../../src/config/sshd/values.js';
import { loadSnapshot, SSHD_FIXTURES } from './fixtures.js';

const fixture = (name: string) => buildSshdConfigTree(loadSnapshot(join(SSHD_FIXTURES, name))).tree;
const treeOf = (text: string) => buildSshdConfigTree({ files: new Map([['/etc/ssh/sshd_config', text]]), listedDirs: new Set(['/etc/ssh']) }).tree;

/** match_pattern as a regular expression compiled afresh: what the cached matcher must agree with. */
function freshWildcardMatch(s: string, pattern: string): boolean {
  let re = '^';
  for (const ch of pattern) re += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${re}$`, 's').test(s);
}

describe('matchWildcard', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', '*', '?', '\n', '\\', '(', '[', '$', '^', '|', 'é', '😀'), maxLength: 8 });

  it('agrees with a freshly compiled pattern, for plain names and wildcards alike', () => {
    fc.assert(
      fc.property(text, text, (s, pattern) => {
        assert.equal(matchWildcard(s, pattern), freshWildcardMatch(s, pattern));
        assert.equal(matchWildcard(s, pattern), freshWildcardMatch(s, pattern), 'asked again, from the cache');
      }),
      { numRuns: 2000 },
    );
  });

  it('stays right for patterns pushed out of a full cache', () => {
    for (let i = 0; i < 5000; i++) assert.equal(matchWildcard(`name-${i}`, `name-${i}*`), true);
    assert.equal(matchWildcard('name-0x', 'name-0*'), true);
    assert.equal(matchWildcard('name-1', 'name-0*'), false);
  });

  it('treats regular expression characters in a plain name literally', () => {
    assert.equal(matchWildcard('aes128-ctr', 'aes128.ctr'), false);
    assert.equal(matchWildcard('a.b', 'a.b'), true);
    assert.equal(matchWildcard('a\nb', 'a*b'), true);
    assert.equal(matchWildcard('ab', 'a?'), true);
  });
});

describe('assembleAlgorithms', () => {
  const lists = { default: ['b', 'a'], all: ['a', 'b', 'c-1', 'c-2'] };

  it('hands out a new array each time, so a caller cannot change the next answer', () => {
    const first = assembleAlgorithms('+c-*', lists);
    assert.deepEqual(first, ['b', 'a', 'c-1', 'c-2']);
    first.push('mutated');
    assert.deepEqual(assembleAlgorithms('+c-*', lists), ['b', 'a', 'c-1', 'c-2']);
  });

  it('keeps the answers of different builds apart, even for the same spec', () => {
    const other = { default: ['x'], all: ['x', 'c-9'] };
    assert.deepEqual(assembleAlgorithms('+c-*', lists), ['b', 'a', 'c-1', 'c-2']);
    assert.deepEqual(assembleAlgorithms('+c-*', other), ['x', 'c-9']);
    assert.deepEqual(assembleAlgorithms('-c-*', other), ['x']);
  });
});

describe('evaluations shared per tree and options', () => {
  const connections = [undefined, { user: 'admin' }, { user: 'deploy', addr: '192.0.2.7', host: 'x.example.com', laddr: '192.0.2.1', lport: 22 }];

  it('give what a fresh evaluation gives, for every connection', () => {
    for (const name of ['hardened', 'rhel-9', 'include-in-match']) {
      const tree = fixture(name);
      for (const connection of connections) {
        const options = connection ? { connection } : {};
        assert.deepEqual(evaluateSshdConfigShared(tree, options), evaluateSshdConfig(tree, options), `${name} ${JSON.stringify(connection)}`);
      }
    }
  });

  it('are reused for equal options, and kept apart by defaults, version and connection', () => {
    const tree = treeOf('PasswordAuthentication no\nMatch User admin\n\tPasswordAuthentication yes\n');
    assert.equal(evaluateSshdConfigShared(tree, { defaults: DEBIAN_12_DEFAULTS }), evaluateSshdConfigShared(tree, {}));
    assert.equal(evaluateSshdConfigShared(tree, { connection: { user: 'admin' } }), evaluateSshdConfigShared(tree, { connection: { user: 'admin' } }));
    assert.notEqual(evaluateSshdConfigShared(tree, { connection: { user: 'admin' } }), evaluateSshdConfigShared(tree, { connection: { user: 'bob' } }));
    assert.deepEqual(effectiveValue(tree, 'PasswordAuthentication', { user: 'admin' }).values, ['yes']);
    assert.deepEqual(effectiveValue(tree, 'PasswordAuthentication', { user: 'bob' }).values, ['no']);

    // Two builds whose defaults differ: each keeps its own answer.
    const small = sshdDefaultsFromDump({ emptyConfigDump: 'maxstartups 5:10:20\n' });
    const large = sshdDefaultsFromDump({ emptyConfigDump: 'maxstartups 50:10:200\n' });
    assert.deepEqual(effectiveValue(tree, 'MaxStartups', undefined, { defaults: small }).values, ['5:10:20']);
    assert.deepEqual(effectiveValue(tree, 'MaxStartups', undefined, { defaults: large }).values, ['50:10:200']);
    assert.deepEqual(effectiveValue(tree, 'MaxStartups', undefined, { defaults: small }).values, ['5:10:20']);

    const twice = treeOf('MaxStartups 20:50:80\nMaxStartups 30\n');
    assert.deepEqual(effectiveValue(twice, 'MaxStartups', undefined, { defaults: small }).values, ['30:50:30']);
    assert.deepEqual(effectiveValue(twice, 'MaxStartups', undefined, { defaults: small, version: '10.1' }).values, ['20:50:80']);
  });

  it('cannot be changed through a value handed out', () => {
    const tree = fixture('debian-12');
    const options = { defaults: DEBIAN_12_DEFAULTS, version: '9.2' };
    const before = structuredClone(effectiveValue(tree, 'AcceptEnv', undefined, options));
    assert.deepEqual(before.values, ['LANG', 'LC_*']);
    const handed = effectiveValue(tree, 'AcceptEnv', undefined, options);
    handed.values.push('mallory');
    handed.sources.length = 0;
    assert.deepEqual(effectiveValue(tree, 'AcceptEnv', undefined, options), before);
  });

  it('leave chained edits as they were: each edit sees the tree the previous one made', () => {
    const tree = treeOf('#MaxStartups 10:30:100\n#ClientAliveInterval 0\nClientAliveCountMax 3\n');
    const result = editSshdConfigAll(tree, [
      { op: 'set', keyword: 'ClientAliveInterval', value: '60' },
      { op: 'set', keyword: 'ClientAliveInterval', value: '0' },
      { op: 'set', keyword: 'ClientAliveCountMax', value: '3' },
      { op: 'set', keyword: 'MaxStartups', value: '100:30:500' },
    ]);
    assert.deepEqual(result.changes.map((c) => c.after), ['#MaxStartups 10:30:100\nMaxStartups 100:30:500\n#ClientAliveInterval 0\nClientAliveInterval 0\nClientAliveCountMax 3\n']);
    assert.deepEqual(effectiveValue(result.tree, 'ClientAliveInterval').values, ['0']);
    assert.deepEqual(effectiveValue(tree, 'ClientAliveInterval').values, ['0']);
    assert.deepEqual(effectiveValue(tree, 'MaxStartups').values, ['10:30:100']);
  });
});

describe('lexText', () => {
  const fresh = (text: string) => splitLines(text).map((l, i) => lexLine(l.text, i + 1, l.eol));

  it('hands out a new array each time, with the lines a fresh read gives', () => {
    const text = 'Port 22\n# comment\nMatch User x\n\tAllowUsers a b\r\n';
    const first = lexText(text);
    assert.deepEqual(first, fresh(text));
    first.length = 0;
    assert.deepEqual(lexText(text), fresh(text));
    assert.notEqual(lexText(text), lexText(text));
  });

  it('stays right for files pushed out of the cache, and for files too large to keep', () => {
    const texts = Array.from({ length: 40 }, (_, i) => `# file ${i} ${'x'.repeat(30000)}\nMaxAuthTries ${i}\n`);
    for (const t of texts) assert.equal(lexText(t).length, 2);
    assert.deepEqual(lexText(texts[0]!), fresh(texts[0]!));
    const huge = `${'#'.repeat(100000)}\nX11Forwarding no\n`;
    assert.deepEqual(lexText(huge), fresh(huge));
  });
});
