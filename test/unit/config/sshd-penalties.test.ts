/**
 * PerSourcePenalties (OpenSSH 9.8+) as servconf.c reads and dump_config prints it, the 10.1
 * first-wins rules for MaxStartups and PerSourceNetBlockSize, and the stricter convtime of 9.8.
 * The oracle test (test/integration/sshd-oracle/openssh10-oracle.test.ts) checks what the real
 * 10.0 sshd prints; the 9.8 and 10.1 facts below come from the source of those releases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sshdDefaultsFromDump } from '../../../src/config/sshd/defaults.js';
import { effectiveValue, evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import { lookupSshdKeyword, validateSshdValue } from '../../../src/config/sshd/keywords.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { parseSshdTime } from '../../../src/config/sshd/values.js';

const treeOf = (main: string) => buildSshdConfigTree({ files: new Map([['/etc/ssh/sshd_config', main]]), listedDirs: new Set(['/etc/ssh']) }).tree;
const penalties = (text: string, version = '10.0') => effectiveValue(treeOf(text), 'PerSourcePenalties', undefined, { version }).values;
const FULL_10 = (fields: Partial<Record<string, string | number>> = {}): string[] => {
  const f = { crash: 90, authfail: 5, noauth: 1, 'grace-exceeded': 10, refuseconnection: 10, max: 600, min: 15, 'max-sources4': 65536, 'max-sources6': 65536, overflow: 'permissive', overflow6: 'permissive', ...fields };
  return [Object.entries(f).map(([k, v]) => `${k}:${String(v)}`).join(' ')];
};
const problemOf = (value: string, version = '10.0') => validateSshdValue(lookupSshdKeyword('PerSourcePenalties', version)!, value, { version })?.code;

describe('PerSourcePenalties values', () => {
  it('yes/no (any case) only as the last word; field names and overflow modes are case-sensitive', () => {
    assert.equal(problemOf('no'), undefined);
    assert.equal(problemOf('YES'), undefined);
    assert.equal(problemOf('crash:5 no'), undefined);
    assert.equal(problemOf('no crash:5'), 'invalid-penalties');
    assert.equal(problemOf('Crash:5'), 'invalid-penalties');
    assert.equal(problemOf('overflow:Deny-All'), 'invalid-penalties');
    assert.equal(problemOf('bogus:1'), 'invalid-penalties');
    assert.equal(problemOf('crash'), 'invalid-penalties');
  });

  it('times in convtime syntax, counts as whole numbers >= 0', () => {
    assert.equal(problemOf('crash:1m30s authfail:0'), undefined);
    assert.equal(problemOf('crash:'), 'invalid-penalties');
    assert.equal(problemOf('crash:-5'), 'invalid-penalties');
    assert.equal(problemOf('max-sources4:+5'), undefined);
    assert.equal(problemOf('max-sources4:-1'), 'invalid-penalties');
  });

  it('refuseconnection: came with RefuseConnection in 9.9 (servconf.c 9.8 has no such field)', () => {
    assert.equal(problemOf('refuseconnection:5', '9.8'), 'invalid-penalties');
    assert.equal(problemOf('refuseconnection:5', '9.9'), undefined);
    assert.equal(lookupSshdKeyword('PerSourcePenalties', '9.2'), undefined);
  });
});

describe('PerSourcePenalties effective value', () => {
  it('unset: every field at the release default, as the last line of sshd -T', () => {
    assert.deepEqual(penalties(''), FULL_10());
    const dump = evaluateSshdConfig(treeOf(''), { version: '10.0' }).dump;
    assert.equal(dump.at(-1), `persourcepenalties ${FULL_10()[0]!}`);
  });

  it('9.8 prints no refuseconnection and waits 20s after an exceeded grace time (fill_default_server_options 9.8)', () => {
    assert.deepEqual(penalties('', '9.8'), ['crash:90 authfail:5 noauth:1 grace-exceeded:20 max:600 min:15 max-sources4:65536 max-sources6:65536 overflow:permissive overflow6:permissive']);
  });

  it('no and yes count only while nothing decided; a field set later turns penalties back on', () => {
    assert.deepEqual(penalties('PerSourcePenalties no\n'), ['no']);
    assert.deepEqual(penalties('PerSourcePenalties yes\n'), FULL_10());
    assert.deepEqual(penalties('PerSourcePenalties no\nPerSourcePenalties yes\n'), ['no']);
    assert.deepEqual(penalties('PerSourcePenalties no\nPerSourcePenalties crash:10\n'), FULL_10({ crash: 10 }));
    assert.deepEqual(penalties('PerSourcePenalties crash:10\nPerSourcePenalties no\n'), FULL_10({ crash: 10 }));
    assert.deepEqual(penalties('PerSourcePenalties crash:5 no\n'), FULL_10({ crash: 5 }));
  });

  it('each field keeps its first value, on the line and across lines; times print in seconds', () => {
    assert.deepEqual(penalties('PerSourcePenalties crash:5 crash:7\n'), FULL_10({ crash: 5 }));
    assert.deepEqual(penalties('PerSourcePenalties crash:5\nPerSourcePenalties crash:7 authfail:9\n'), FULL_10({ crash: 5, authfail: 9 }));
    assert.deepEqual(penalties('PerSourcePenalties crash:1m30s authfail:1h\n'), FULL_10({ crash: 90, authfail: 3600 }));
    const v = effectiveValue(treeOf('PerSourcePenalties crash:5\nPerSourcePenalties crash:7 authfail:9\nPerSourcePenalties crash:8\n'), 'PerSourcePenalties', undefined, { version: '10.0' });
    assert.deepEqual(v.sources.map((s) => s.line), [1, 2], 'the third line sets nothing');
  });

  it('overflow6 follows overflow unless set itself', () => {
    assert.deepEqual(penalties('PerSourcePenalties overflow:deny-all\n'), FULL_10({ overflow: 'deny-all', overflow6: 'deny-all' }));
    assert.deepEqual(penalties('PerSourcePenalties overflow6:deny-all\n'), FULL_10({ overflow6: 'deny-all' }));
    assert.deepEqual(penalties('PerSourcePenalties overflow6:permissive overflow:deny-all\n'), FULL_10({ overflow: 'deny-all' }));
  });

  it("unset fields come from the host's own empty-config dump when the caller has it", () => {
    const defaults = sshdDefaultsFromDump({ emptyConfigDump: `persourcepenalties ${FULL_10({ authfail: 30, overflow6: 'deny-all' })[0]!}\n`, version: '10.0' });
    assert.deepEqual(effectiveValue(treeOf('PerSourcePenalties crash:1\n'), 'PerSourcePenalties', undefined, { defaults }).values, FULL_10({ crash: 1, authfail: 30, overflow6: 'deny-all' }));
    const off = sshdDefaultsFromDump({ emptyConfigDump: 'persourcepenalties no\n', version: '10.0' });
    assert.deepEqual(effectiveValue(treeOf(''), 'PerSourcePenalties', undefined, { defaults: off }).values, ['no']);
    assert.deepEqual(effectiveValue(treeOf('PerSourcePenalties min:1\n'), 'PerSourcePenalties', undefined, { defaults: off }).values, FULL_10({ min: 1 }));
  });

  it('refused inside Match like every global-only keyword', () => {
    const engine = evaluateSshdConfig(treeOf('Match User root\nPerSourcePenalties no\n'), { version: '10.0' });
    assert.deepEqual(engine.diagnostics.map((d) => d.code), ['not-allowed-in-match']);
  });
});

describe('first-wins rules of 10.1', () => {
  // servconf.c 10.1p1, case sMaxStartups: `if (*activep && options->max_startups == -1)` sets
  // begin, rate and max together, and a bare N sets `value3 = value; value = value2 = -1`, which
  // fill_default_server_options turns into begin 10 and rate 30. 10.0 and older keep the last line.
  it('MaxStartups: 10.1 keeps the first line, and a bare N is only the limit (10:30:N)', () => {
    const value = (text: string, version: string) => effectiveValue(treeOf(text), 'MaxStartups', undefined, { version }).values;
    assert.deepEqual(value('MaxStartups 20:50:80\nMaxStartups 30\n', '10.0'), ['30:50:30']);
    assert.deepEqual(value('MaxStartups 20:50:80\nMaxStartups 30\n', '10.1'), ['20:50:80']);
    assert.deepEqual(value('MaxStartups 50\n', '10.0'), ['50:30:50']);
    assert.deepEqual(value('MaxStartups 50\n', '10.1'), ['10:30:50']);
    assert.deepEqual(value('MaxStartups 50\nMaxStartups 20:50:80\n', '10.1'), ['10:30:50']);
  });

  // servconf.c 10.1p1, case sPerSourceNetBlockSize: `if (*activep && options->per_source_masklen_ipv4 == -1)`;
  // 10.0 sets both masks on every active line.
  it('PerSourceNetBlockSize: 10.1 keeps the first line, 10.0 the last', () => {
    const text = 'PerSourceNetBlockSize 24:64\nPerSourceNetBlockSize 16:48\n';
    assert.deepEqual(effectiveValue(treeOf(text), 'PerSourceNetBlockSize', undefined, { version: '10.0' }).values, ['16:48']);
    assert.deepEqual(effectiveValue(treeOf(text), 'PerSourceNetBlockSize', undefined, { version: '10.1' }).values, ['24:64']);
  });
});

describe('convtime per release', () => {
  it('9.8+ (misc.c scandigits + strtonum) takes plain digits only; 9.2 (strtol) also a sign and leading blanks', () => {
    assert.equal(parseSshdTime('+5', '9.2'), 5);
    assert.equal(parseSshdTime('+5', '9.8'), undefined);
    assert.equal(parseSshdTime(' 5', '9.2'), 5);
    assert.equal(parseSshdTime(' 5', '10.0'), undefined);
    for (const version of ['9.2', '10.0']) {
      assert.equal(parseSshdTime('2147483647', version), 2147483647);
      assert.equal(parseSshdTime('2147483648', version), undefined);
      assert.equal(parseSshdTime('1m30s', version), 90);
      assert.equal(parseSshdTime('5mm', version), undefined);
    }
  });
});

describe('IPQoS per release', () => {
  const ipqos = (text: string, options: Parameters<typeof effectiveValue>[3]) => {
    const engine = evaluateSshdConfig(treeOf(text), options);
    return engine.diagnostics.some((d) => d.severity === 'error') ? 'error' : engine.dump.find((l) => l.startsWith('ipqos '));
  };
  it('9.8+ reads numbers in decimal only (misc.c parse_ipqos: strtonum), 9.2 in any base (strtol)', () => {
    assert.equal(ipqos('IPQoS 0x10\n', { version: '9.2' }), 'ipqos lowdelay lowdelay');
    assert.equal(ipqos('IPQoS 0x10\n', { version: '10.0' }), 'error');
    assert.equal(ipqos('IPQoS 16 0x88\n', { version: '9.2' }), 'ipqos lowdelay af41');
    assert.equal(ipqos('IPQoS 16\n', { version: '10.0' }), 'ipqos lowdelay lowdelay');
  });

  it('ToS names mean none from 10.1 (commit ec3465f59), and on a build whose default is 10.1\'s `ef cs1`', () => {
    assert.equal(ipqos('IPQoS lowdelay throughput\n', { version: '10.0' }), 'ipqos lowdelay throughput');
    assert.equal(ipqos('IPQoS lowdelay throughput\n', { version: '10.1' }), 'ipqos none none');
    const debian13 = sshdDefaultsFromDump({ emptyConfigDump: 'ipqos ef cs1\n', version: '10.0' });
    assert.equal(ipqos('IPQoS lowdelay af21\n', { defaults: debian13 }), 'ipqos none af21');
    assert.equal(ipqos('', { defaults: debian13 }), 'ipqos ef cs1');
    // No name is printed for 0x10 any more: the table maps lowdelay elsewhere.
    assert.equal(ipqos('IPQoS 16\n', { defaults: debian13 }), 'ipqos 0x10 0x10');
  });
});

describe('AuthenticationMethods checks', () => {
  const errors = (text: string, version = '10.0') => evaluateSshdConfig(treeOf(text), { version }).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
  it('sshd refuses to start when every list names a disabled method (sshd.c, before -T prints)', () => {
    assert.deepEqual(errors('PubkeyAuthentication no\nAuthenticationMethods publickey,password publickey\n'), ['auth-methods-unsatisfiable']);
    assert.deepEqual(errors('PubkeyAuthentication no\nAuthenticationMethods publickey,password publickey\n', '9.2'), ['auth-methods-unsatisfiable']);
    assert.deepEqual(errors('PubkeyAuthentication no\nAuthenticationMethods publickey password\n'), []);
    assert.deepEqual(errors('PasswordAuthentication no\nAuthenticationMethods keyboard-interactive:pam\n'), []);
    // Match blocks are not considered: only the first pass counts.
    assert.deepEqual(errors('AuthenticationMethods password\nMatch User root\n\tPasswordAuthentication no\n'), []);
  });

  it('a later `any` is checked against earlier lines up to 9.6 only (servconf.c 9.7 keeps the check to the line)', () => {
    const text = 'AuthenticationMethods publickey\nAuthenticationMethods any\n';
    assert.deepEqual(errors(text, '9.2'), ['invalid-auth-methods']);
    assert.deepEqual(errors(text, '10.0'), []);
  });
});

describe('UnusedConnectionTimeout none', () => {
  it('the word none wins over an earlier time and keeps later ones out, on 9.2 and 10.0 (servconf.c sets it without the -1 check)', () => {
    for (const version of ['9.2', '10.0']) {
      const value = (text: string) => effectiveValue(treeOf(text), 'UnusedConnectionTimeout', undefined, { version });
      assert.deepEqual(value('UnusedConnectionTimeout 10m\nUnusedConnectionTimeout none\n').values, ['none']);
      assert.deepEqual(value('UnusedConnectionTimeout 10m\nUnusedConnectionTimeout none\n').source?.line, 2);
      assert.deepEqual(value('UnusedConnectionTimeout none\nUnusedConnectionTimeout 10m\n').values, ['none']);
      assert.deepEqual(value('UnusedConnectionTimeout 10m\nUnusedConnectionTimeout 0\n').values, ['600']);
    }
  });
});
