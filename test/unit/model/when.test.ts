import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHostScope, createValidationScope, type VariableScope } from '../../../src/model/variables.js';
import { compareVersions } from '../../../src/model/version.js';
import { evaluateWhen, MAX_WHEN_DEPTH, parseWhen, whenReferences, type WhenResult } from '../../../src/model/when.js';

const scope = createHostScope({
  host: { name: 'web-01', address: '192.0.2.10', vars: { role: 'web', port: '22', n: 5, flag: true, admins: ['alice', 'bob'] } },
  facts: { 'runner.address': '198.51.100.7', 'openssh.version': '9.2p1', 'os.id': 'debian' },
});

function run(text: string, s: VariableScope = scope): WhenResult {
  const parsed = parseWhen(text);
  if ('error' in parsed) assert.fail(`parse error in ${text}: ${parsed.error.message}`);
  return evaluateWhen(parsed.expr, s);
}
const holds = (text: string): boolean => {
  const result = run(text);
  assert.equal(result.status, 'ok', `${text}: ${JSON.stringify(result)}`);
  return result.status === 'ok' && result.value;
};

describe('when: conditions', () => {
  it('compares strings, numbers and versions', () => {
    assert.ok(holds('os.id == "debian"'));
    assert.ok(holds("os.id != 'ubuntu'"));
    assert.ok(holds('openssh.version >= "9.0"'));
    assert.ok(holds('openssh.version >= 9.0'));
    assert.ok(holds('openssh.version < 10.0'));
    assert.ok(holds('openssh.version > "9.2"'));
    assert.ok(!holds('openssh.version >= "9.10"'));
    assert.ok(holds('port == 22'));
    assert.ok(holds('n > 3 and n <= 5'));
  });
  it('combines with and, or, not and parentheses, binding and tighter than or', () => {
    assert.ok(holds('os.id == "alpine" or os.id == "debian" and role == "web"'));
    assert.ok(!holds('(os.id == "alpine" or os.id == "debian") and role == "db"'));
    assert.ok(holds('not role == "db"'));
    assert.ok(holds('not not flag'));
  });
  it('tests membership in lists and strings', () => {
    assert.ok(holds('os.id in ["debian", "ubuntu"]'));
    assert.ok(holds('"alice" in admins'));
    assert.ok(holds('"carol" not in admins'));
    assert.ok(holds('"198.51" in runner.address'));
    assert.ok(holds('os.id in []') === false);
  });
  it('tests definedness, and short-circuits past undefined variables', () => {
    assert.ok(holds('defined(role)'));
    assert.ok(!holds('defined(missing)'));
    assert.ok(holds('missing is not defined'));
    assert.ok(!holds('defined(missing) and missing == 1'));
    assert.ok(holds('flag or missing == 1'));
  });
  it('reports undefined variables, non-booleans and type errors with their span', () => {
    const undefinedVar = run('role == "web" and missing == 1');
    assert.ok(undefinedVar.status === 'error');
    assert.deepEqual([undefinedVar.errors[0]!.code, undefinedVar.errors[0]!.from, undefinedVar.errors[0]!.to], ['undefined-variable', 18, 25]);
    const notBoolean = run('role');
    assert.ok(notBoolean.status === 'error' && notBoolean.errors[0]!.code === 'when-not-boolean');
    const typeError = run('admins > 1');
    assert.ok(typeError.status === 'error' && typeError.errors[0]!.code === 'when-type-error');
    const badIn = run('"a" in n');
    assert.ok(badIn.status === 'error' && badIn.errors[0]!.code === 'when-type-error');
  });
  it('is pending on facts before connecting, but still catches undefined variables', () => {
    const validation = createValidationScope({ host: { name: 'h', address: 'h', vars: { role: 'web' } } });
    assert.deepEqual(run('os.id == "debian"', validation), { status: 'pending' });
    assert.deepEqual(run('os.id == "debian" and role == "db"', validation), { status: 'ok', value: false });
    assert.equal(run('os.id == "debian" and nope', validation).status, 'error');
    assert.deepEqual(run('host.name == "h"', validation), { status: 'ok', value: true });
  });
  it('refuses bad syntax with a position', () => {
    const cases: [string, number][] = [
      ['os.id = "debian"', 6], ['os.id == ', 8], ['(a', 1], ['a && b', 2], ['a == "x', 5], ['and', 0], ['a b', 2], ['os.id == debian x', 16],
      ['a is defind', 5], ['', 0], ['!a', 0], ['[1, 2', 4],
    ];
    for (const [text, from] of cases) {
      const parsed = parseWhen(text);
      assert.ok('error' in parsed, text);
      assert.equal(parsed.error.code, 'bad-when', text);
      assert.equal(parsed.error.from, from, text);
    }
  });
  it('lists references and whether defined() guards them', () => {
    const parsed = parseWhen('defined(x) and x.y == 1 or os.id in [z]');
    assert.ok('expr' in parsed);
    assert.deepEqual(whenReferences(parsed.expr).map((r) => [r.name, r.guarded]), [['x', true], ['x.y', false], ['os.id', false], ['z', false]]);
  });
});

describe('version ordering', () => {
  it('orders OpenSSH versions naturally', () => {
    const sorted = ['10.0p2', '9.2p1', '9.10', '8.9p1', '9.6', '9.6p1', '7.4p1'].sort(compareVersions);
    assert.deepEqual(sorted, ['7.4p1', '8.9p1', '9.2p1', '9.6', '9.6p1', '9.10', '10.0p2']);
    assert.equal(compareVersions('9.0', '9.0'), 0);
  });
});

describe('when: nesting limits', () => {
  it(`refuses not, parentheses and lists nested past ${MAX_WHEN_DEPTH} levels, at the token that goes too deep`, () => {
    for (const [text, at] of [
      ['not '.repeat(20_000) + 'flag', 4 * MAX_WHEN_DEPTH],
      ['('.repeat(20_000) + 'flag' + ')'.repeat(20_000), MAX_WHEN_DEPTH],
      ['role in ' + '['.repeat(20_000) + ']'.repeat(20_000), 8 + MAX_WHEN_DEPTH],
    ] as const) {
      const parsed = parseWhen(text);
      assert.ok('error' in parsed, text.slice(0, 40));
      assert.equal(parsed.error.code, 'when-too-deep');
      assert.equal(parsed.error.from, at);
    }
    assert.equal(run(`${'not '.repeat(MAX_WHEN_DEPTH)}flag`).status, 'ok');
  });

  it('evaluates and lists the references of a chain of 100000 terms (chains do not nest)', () => {
    const chain = Array.from({ length: 100_000 }, () => 'flag').join(' and ');
    assert.ok(holds(chain));
    assert.ok(holds(`${chain} or n == 1`));
    const parsed = parseWhen(chain);
    assert.ok('expr' in parsed);
    assert.equal(whenReferences(parsed.expr).length, 100_000);
  });
});
