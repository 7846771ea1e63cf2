import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlob } from '../../../src/model/glob.js';
import { parseHostPattern, selectHosts, type PatternUniverse } from '../../../src/model/host-pattern.js';

const universe: PatternUniverse = {
  hosts: ['bastion-1', 'web-01', 'web-02', 'web-03', 'db-a', 'db-b', 'legacy'],
  groups: new Map([
    ['web', ['web-01', 'web-02', 'web-03']],
    ['db', ['db-a', 'db-b']],
  ]),
};

const select = (text: string): { hosts: string[]; unmatched: string[] } => {
  const { pattern, errors } = parseHostPattern(text);
  assert.deepEqual(errors, []);
  const result = selectHosts(pattern, universe);
  return { hosts: result.hosts, unmatched: result.unmatched.map((t) => t.text) };
};

describe('host patterns', () => {
  it('all and * select every host in inventory order', () => {
    assert.deepEqual(select('all').hosts, universe.hosts);
    assert.deepEqual(select('*').hosts, universe.hosts);
  });
  it('selects by name, group, glob and range', () => {
    assert.deepEqual(select('legacy').hosts, ['legacy']);
    assert.deepEqual(select('db').hosts, ['db-a', 'db-b']);
    assert.deepEqual(select('web-0?').hosts, ['web-01', 'web-02', 'web-03']);
    assert.deepEqual(select('web-[02:03]').hosts, ['web-02', 'web-03']);
    assert.deepEqual(select('db-[ab]').hosts, ['db-a', 'db-b']);
    assert.deepEqual(select('db-[!a]').hosts, ['db-b']);
  });
  it('unions comma lists and subtracts exclusions, keeping inventory order', () => {
    assert.deepEqual(select('legacy, web').hosts, ['web-01', 'web-02', 'web-03', 'legacy']);
    assert.deepEqual(select('web,!web-02').hosts, ['web-01', 'web-03']);
    assert.deepEqual(select('!web,!db').hosts, ['bastion-1', 'legacy']);
    assert.deepEqual(select('web,!web').hosts, []);
  });
  it('reports terms that match nothing', () => {
    assert.deepEqual(select('web,webz,!dbb').unmatched, ['webz', 'dbb']);
    assert.deepEqual(select('web-9*').unmatched, ['web-9*']);
  });
  it('records each term\'s span for diagnostics', () => {
    const { pattern } = parseHostPattern('web, !db');
    assert.deepEqual(pattern.terms.map((t) => [t.text, t.exclude, t.from, t.to]), [['web', false, 0, 3], ['db', true, 5, 8]]);
  });
  it('refuses malformed patterns with a position', () => {
    const cases: [string, number][] = [['web,,db', 3], ['', 0], ['!', 0], ['web db', 0], ['web:db', 0], ['web-[3:1]', 0], ['a!b', 0], ['web-[', 0]];
    for (const [text, from] of cases) {
      const { errors } = parseHostPattern(text);
      assert.equal(errors.length, 1, text);
      assert.equal(errors[0]!.from, from, text);
    }
  });
});

describe('globs', () => {
  it('compiles *, ? and classes, escaping the rest', () => {
    const re = (g: string): RegExp => {
      const compiled = compileGlob(g);
      assert.ok('regexp' in compiled);
      return compiled.regexp;
    };
    assert.ok(re('web-*.example.com').test('web-01.example.com'));
    assert.ok(!re('web-*.example.com').test('web-01xexample.com'));
    assert.ok(re('db-[a-c]').test('db-b'));
    assert.ok(!re('db-?').test('db-10'));
    assert.ok('error' in compileGlob('db-[a'));
  });
});
