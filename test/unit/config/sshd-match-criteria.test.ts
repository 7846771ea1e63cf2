/**
 * Match criteria newer than 9.2, as servconf.c's match_cfg_line reads them: `Invalid-User` (9.9,
 * a flag), `Version` (10.0, the build's release against a pattern list, also in the first
 * pass), the `name=value` words of 10.0, and how each version refuses what it does not know.
 * The oracle test (test/integration/sshd-oracle/openssh10-oracle.test.ts) checks the same
 * against the real 9.2 and 10.0 sshd.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOpensshRelease } from '../../../src/config/openssh/version.js';
import { connectionForCriteria, formatConnectionSpec, matchValidationSpecs } from '../../../src/config/sshd/connection-spec.js';
import { listSshdDirectives } from '../../../src/config/sshd/directives.js';
import { effectiveValue, evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import { evaluateMatch, matchCovers, parseMatchCriteria, type MatchCriterion } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';

const treeOf = (main: string) => buildSshdConfigTree({ files: new Map([['/etc/ssh/sshd_config', main]]), listedDirs: new Set(['/etc/ssh']) }).tree;
const criteria = (text: string, version: string): MatchCriterion[] => {
  const parsed = parseMatchCriteria(text, version);
  assert.ok('criteria' in parsed, `${text} on ${version}: ${JSON.stringify(parsed)}`);
  return parsed.criteria;
};
const problem = (text: string, version: string): string => {
  const parsed = parseMatchCriteria(text, version);
  assert.ok('problem' in parsed, `${text} on ${version} should be refused`);
  return parsed.problem.message;
};
const TEN = { version: '10.0', release: 'OpenSSH_10.0p2' };

describe('Match Invalid-User (OpenSSH 9.9)', () => {
  it('is a flag: no value, any case, combinable with other criteria', () => {
    assert.deepEqual(criteria('invalid-user', '10.0'), [{ attribute: 'invalid-user' }]);
    assert.deepEqual(criteria('Invalid-User User root', '9.9'), [{ attribute: 'invalid-user' }, { attribute: 'user', value: 'root' }]);
    // The word after it is the next attribute: sshd says "Missing Match criteria for root".
    assert.match(problem('invalid-user root', '10.0'), /unsupported Match attribute "root"/);
  });

  it('9.2 does not know it: refused with the version that added it', () => {
    const parsed = parseMatchCriteria('invalid-user', '9.2');
    assert.ok('problem' in parsed);
    assert.equal(parsed.problem.code, 'bad-match');
    assert.match(parsed.problem.message, /OpenSSH 9\.2 does not know it \(added in 9\.9\)/);
    const engine = evaluateSshdConfig(treeOf('Match invalid-user\nPasswordAuthentication no\n'), { version: '9.2' });
    assert.deepEqual(engine.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.range?.start.line]), [['bad-match', 1]]);
  });

  it('matches only a connection marked invalid-user (sshd -T -C ...,invalid-user)', () => {
    const c = criteria('invalid-user', '10.0');
    assert.equal(evaluateMatch(c, { user: 'root' }, TEN).matches, false);
    assert.equal(evaluateMatch(c, { user: 'root', invalidUser: true }, TEN).matches, true);
    assert.equal(evaluateMatch(c, { invalidUser: true }, TEN).matches, true);
    const tree = treeOf('Match invalid-user\nPasswordAuthentication no\n');
    assert.deepEqual(effectiveValue(tree, 'PasswordAuthentication', { user: 'root' }, { version: '10.0' }).values, ['yes']);
    assert.deepEqual(effectiveValue(tree, 'PasswordAuthentication', { user: 'root', invalidUser: true }, { version: '10.0' }).values, ['no']);
  });

  it('first pass: 9.9p1 applied the block at startup (servconf.c 9.9p1 `if (ci == NULL) continue;`), 9.9p2 and 10.0 do not', () => {
    const c = criteria('invalid-user', '9.9');
    assert.equal(evaluateMatch(c, undefined, { version: '9.9' }).matches, true);
    assert.equal(evaluateMatch(c, undefined, { version: '9.9', release: 'OpenSSH_9.9p1' }).matches, true);
    assert.equal(evaluateMatch(c, undefined, { version: '9.9', release: 'OpenSSH_9.9p2' }).matches, false);
    assert.equal(evaluateMatch(c, undefined, TEN).matches, false);
    // So a global-only keyword in it is accepted by 9.9p1 and refused by 10.0.
    const text = 'Match invalid-user\nMaxStartups 5\n';
    assert.deepEqual(evaluateSshdConfig(treeOf(text), { version: '9.9' }).diagnostics.filter((d) => d.severity === 'error'), []);
    assert.deepEqual(evaluateSshdConfig(treeOf(text), TEN).diagnostics.map((d) => d.code), ['not-allowed-in-match']);
  });

  it('a test connection for it carries invalid-user in the -C spec', () => {
    const connection = connectionForCriteria(criteria('Invalid-User Address 198.51.100.0/24', '10.0'), TEN);
    assert.ok(connection);
    assert.equal(formatConnectionSpec(connection), 'user=root,host=sshfix-check.invalid,addr=198.51.100.1,laddr=192.0.2.253,lport=22,invalid-user');
    assert.ok(matchValidationSpecs(treeOf('Match invalid-user\nPasswordAuthentication no\n'), '10.0').some((s) => s.endsWith(',invalid-user')));
  });

  it('coverage: an invalid-user block covers the same criteria narrowed further, not the other way', () => {
    assert.equal(matchCovers(criteria('invalid-user', '10.0'), criteria('invalid-user Address 192.0.2.0/24', '10.0')), true);
    assert.equal(matchCovers(criteria('invalid-user Address 192.0.2.0/24', '10.0'), criteria('invalid-user', '10.0')), false);
    assert.equal(matchCovers(criteria('invalid-user', '10.0'), criteria('Address 192.0.2.0/24', '10.0')), false);
  });
});

describe('Match Version (OpenSSH 10.0)', () => {
  it('compares the release string with a case-sensitive pattern list', () => {
    const m = (patterns: string, release = 'OpenSSH_10.0p2') => evaluateMatch(criteria(`Version ${patterns}`, '10.0'), {}, { version: '10.0', release }).matches;
    assert.equal(m('OpenSSH_10.0p2'), true);
    assert.equal(m('OpenSSH_10.0'), false, 'the whole release must match');
    assert.equal(m('OpenSSH_10.0*'), true);
    assert.equal(m('openssh_10.0p2'), false, 'case-sensitive');
    assert.equal(m('OpenSSH_9*,OpenSSH_10*'), true);
    assert.equal(m('!OpenSSH_9*'), false, 'a negation alone never matches');
    assert.equal(m('OpenSSH_10*,!OpenSSH_10.0*'), false);
    assert.equal(m('OpenSSH_10.0p2', 'OpenSSH_10.0p2 Debian-7+deb13u4'), false, "Debian's package adds its suffix to the release");
  });

  it('applies in the first pass too, so a matching block may hold global-only keywords', () => {
    const text = 'Match Version OpenSSH_10*\nMaxStartups 5\n';
    const engine = evaluateSshdConfig(treeOf(text), TEN);
    assert.deepEqual(engine.diagnostics, []);
    assert.ok(engine.dump.includes('maxstartups 5:30:5'));
    assert.deepEqual(evaluateSshdConfig(treeOf('Match Version OpenSSH_9*\nMaxStartups 5\n'), TEN).diagnostics.map((d) => d.code), ['not-allowed-in-match']);
    const { directives } = listSshdDirectives(treeOf(text), '10.0', 'OpenSSH_10.0p2');
    assert.equal(directives[0]?.global, true);
    assert.equal(listSshdDirectives(treeOf(text), '10.0', 'OpenSSH_9.9p2').directives[0]?.global, false);
  });

  it('without the release the engine cannot tell: not matching, with a warning', () => {
    const engine = evaluateSshdConfig(treeOf('Match Version OpenSSH_10*\nPasswordAuthentication no\n'), { version: '10.0', connection: { user: 'root' } });
    assert.deepEqual(engine.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'match-test-incomplete']]);
    assert.ok(engine.dump.includes('passwordauthentication yes'));
    assert.equal(connectionForCriteria(criteria('Version OpenSSH_10*', '10.0'), { version: '10.0' }), undefined);
    assert.ok(connectionForCriteria(criteria('Version OpenSSH_10*', '10.0'), TEN));
  });

  it('9.2 and 9.9 do not know it', () => {
    assert.match(problem('Version OpenSSH_9*', '9.2'), /added in 10\.0/);
    assert.match(problem('Version OpenSSH_9*', '9.9'), /added in 10\.0/);
  });

  it("the release is what 10.x's sshd -V prints before the comma", () => {
    assert.equal(parseOpensshRelease('OpenSSH_10.0p2, OpenSSL 3.0.19 27 Jan 2026\n'), 'OpenSSH_10.0p2');
    assert.equal(parseOpensshRelease('OpenSSH_10.0p2 Debian-7+deb13u4, OpenSSL 3.5.1 1 Jul 2025\n'), 'OpenSSH_10.0p2 Debian-7+deb13u4');
    assert.equal(parseOpensshRelease('unknown option -- V\nOpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19\nusage: sshd'), 'OpenSSH_9.2p1 Debian-2+deb12u10');
    assert.equal(parseOpensshRelease('sshd: command not found'), undefined);
  });
});

describe('how each version splits the criteria words', () => {
  it('9.2 splits `User=root` at the = (strdelim); so does 10.0 for the attributes it lists', () => {
    assert.deepEqual(criteria('User=root', '9.2'), [{ attribute: 'user', value: 'root' }]);
    assert.deepEqual(criteria('user=root Address=192.0.2.0/24', '10.0'), [
      { attribute: 'user', value: 'root' },
      { attribute: 'address', value: '192.0.2.0/24' },
    ]);
    assert.deepEqual(criteria('version=OpenSSH_10*', '10.0'), [{ attribute: 'version', value: 'OpenSSH_10*' }]);
  });

  it('9.9 reads every line with argv_split, which keeps `User=root` one unknown word (fixed in 10.0)', () => {
    assert.match(problem('User=root', '9.9'), /unsupported Match attribute "User=root"/);
  });

  it('10.0: an empty value after = is missing, flags have no = form', () => {
    assert.match(problem('user= root', '10.0'), /missing Match criteria for user/);
    assert.match(problem('invalid-user=x', '10.0'), /unsupported Match attribute "invalid-user=x"/);
    assert.match(problem('all=x', '10.0'), /unsupported Match attribute "all=x"/);
  });

  it('a quoted pattern with a space stays one word from 9.9 on', () => {
    assert.deepEqual(criteria('Version "OpenSSH_10.0p2 Debian*"', '10.0'), [{ attribute: 'version', value: 'OpenSSH_10.0p2 Debian*' }]);
  });
});
