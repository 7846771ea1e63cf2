import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Diagnostic } from '../../../src/util/diagnostics.js';
import { checkShape } from '../../../src/lang/spec.js';
import { parseYaml } from '../../../src/lang/yaml-tree.js';
import { lookupTaskKind, PLANNED_TASK_KINDS, TASK_KIND_NAMES, TASK_KINDS } from '../../../src/tasks/registry.js';
import { parseMatchCriteria } from '../../../src/tasks/sshd/schema.js';
import { where } from './helpers.js';

/** Checks `text` as the parameters of `kind`, the way the loader does, with an optional version. */
function check(kind: 'sshd' | 'assert', text: string, opensshVersion?: string): { params: unknown; diagnostics: Diagnostic[] } {
  const { root, diagnostics } = parseYaml(text, 't.yaml');
  assert.ok(root);
  const spec = TASK_KINDS[kind].params;
  checkShape(root, { ...spec, templates: true }, { file: 't.yaml', diagnostics }, kind);
  const params = TASK_KINDS[kind].readParams(root, {
    file: 't.yaml',
    diagnostics,
    templatesPending: true,
    ...(opensshVersion ? { opensshVersion } : {}),
  });
  return { params, diagnostics };
}

describe('the task registry', () => {
  it('knows sshd, assert, fail2ban, ssh_client, tcp_wrappers and sshguard, each with a schema and a reader', () => {
    assert.deepEqual(TASK_KIND_NAMES, ['sshd', 'assert', 'fail2ban', 'ssh_client', 'tcp_wrappers', 'sshguard']);
    for (const name of TASK_KIND_NAMES) {
      const kind = lookupTaskKind(name);
      assert.equal(kind?.name, name);
      assert.equal(kind?.params.type, 'object');
    }
    assert.equal(lookupTaskKind('toString'), undefined);
    assert.ok(PLANNED_TASK_KINDS.every((k) => !TASK_KIND_NAMES.includes(k as never)));
  });
  it('marks assert read-only and sshd not', () => {
    assert.equal(TASK_KINDS.assert.readOnly, true);
    assert.equal(TASK_KINDS.sshd.readOnly, false);
  });
});

describe('sshd task parameters', () => {
  it('normalises keyword spelling and yes/no', () => {
    const { params, diagnostics } = check('sshd', 'set: { tcpkeepalive: true, PermitRootLogin: prohibit-password }\nunset: debianbanner');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(params, {
      config: '/etc/ssh/sshd_config',
      set: [{ keyword: 'TCPKeepAlive', value: 'yes' }, { keyword: 'PermitRootLogin', value: 'prohibit-password' }],
      unset: ['DebianBanner'],
      add: [],
      remove: [],
    });
  });
  it('defers value checks of {{ }} values to rendering', () => {
    assert.deepEqual(check('sshd', 'set: { MaxStartups: "{{ x }}" }').diagnostics, []);
  });
  it('allows a keyword inside Match when some release does, and checks the release when known', () => {
    const text = 'match: "User sftp"\nset: { Subsystem: "sftp internal-sftp" }';
    assert.deepEqual(check('sshd', text).diagnostics, []);
    assert.deepEqual(where(check('sshd', text, '9.2p1').diagnostics), ['match-illegal-keyword@2:8']);
    assert.deepEqual(check('sshd', text, '9.6p1').diagnostics, []);
  });
  it('lets add and remove touch the same list keyword, but not the same value', () => {
    assert.deepEqual(check('sshd', 'add: { AllowUsers: [a] }\nremove: { AllowUsers: [b] }').diagnostics, []);
    assert.deepEqual(where(check('sshd', 'add: { AllowUsers: [a] }\nremove: { AllowUsers: [a] }').diagnostics), ['sshd-keyword-conflict@2:11']);
  });
  it('softens unknown algorithms to a warning before the host is known', () => {
    const { diagnostics } = check('sshd', 'set: { KexAlgorithms: "+sntrup999x25519-sha512" }');
    assert.deepEqual(where(diagnostics), ['warning unknown-algorithm@1:23']);
  });
});

describe('Match criteria', () => {
  it('parses criteria with canonical names', () => {
    assert.deepEqual(parseMatchCriteria('user deploy ADDRESS 192.0.2.0/24,!192.0.2.1'), {
      criteria: [{ name: 'User', value: 'deploy' }, { name: 'Address', value: '192.0.2.0/24,!192.0.2.1' }],
    });
    assert.deepEqual(parseMatchCriteria('All'), { criteria: [{ name: 'All' }] });
  });
  it('refuses malformed criteria with the span of the culprit', () => {
    const span = (text: string): [number, number] | undefined => {
      const result = parseMatchCriteria(text);
      return 'error' in result ? [result.error.from, result.error.to] : undefined;
    };
    assert.deepEqual(span('Adress 10.0.0.0/8'), [0, 6]);
    assert.deepEqual(span('User'), [0, 4]);
    assert.deepEqual(span('User x Address 10.0.0.1/8'), [15, 25]);
    assert.deepEqual(span('All User x'), [0, 3]);
    // ssh_config's criteria that sshd refuses ("Unsupported Match attribute", 9.2 and 10.0 alike).
    assert.deepEqual(span('SessionType shell'), [0, 11]);
    assert.deepEqual(span('User x Command foo'), [7, 14]);
    assert.deepEqual(span('LocalPort ssh'), [10, 13]);
    assert.deepEqual(span('  '), [0, 2]);
  });
});

describe('assert task parameters', () => {
  it('reads comparisons', () => {
    const { params, diagnostics } = check('assert', 'sshd: { ClientAliveInterval: 1m, Ciphers: { not_contains: [3des-cbc, arcfour] } }');
    assert.deepEqual(diagnostics, []);
    const sshd = (params as { sshd: { keyword: string; operator: string; expected: string[] }[] }).sshd;
    assert.deepEqual(sshd.map((a) => [a.keyword, a.operator, a.expected]), [
      ['ClientAliveInterval', 'equals', ['1m']],
      ['Ciphers', 'not_contains', ['3des-cbc', 'arcfour']],
    ]);
  });
  it('refuses expectations that could never hold', () => {
    assert.deepEqual(where(check('assert', 'sshd: { TCPKeepAlive: maybe }').diagnostics), ['invalid-flag@1:23']);
    assert.deepEqual(where(check('assert', 'sshd: { MaxAuthTries: { at_least: many } }').diagnostics), ['bad-assert-operand@1:35']);
    assert.deepEqual(where(check('assert', 'sshd: { MaxAuthTries: { sort_of: 3 } }').diagnostics), ['unknown-key@1:25', 'bad-assert-operator@1:23']);
    assert.deepEqual(where(check('assert', 'sshd: {}').diagnostics), ['empty-assert@1:7']);
    assert.deepEqual(where(check('assert', 'connection: { user: x }').diagnostics), ['missing-key@1:1']);
  });
});
