import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ALIAS_NODES, MAX_YAML_DEPTH, parseYaml, toPlainValue } from '../../../src/lang/yaml-tree.js';
import { where, yaml } from './helpers.js';

describe('YAML loading', () => {
  it('reports a duplicate key at its second occurrence and names the first', () => {
    const parsed = parseYaml(yaml`
      hosts:
        web-01: {}
        db-01: {}
        web-01: { port: 2222 }
    `, 'inventory.yaml');
    assert.deepEqual(where(parsed.diagnostics), ['duplicate-key@4:3']);
    assert.match(parsed.diagnostics[0]!.message, /"web-01".*line 2, column 3/);
    // The first occurrence is the one kept.
    assert.deepEqual(toPlainValue(parsed.root!), { hosts: { 'web-01': {}, 'db-01': {} } });
  });

  it('reports duplicates in flow mappings, and once for a mapping that aliases repeat', () => {
    const parsed = parseYaml('base: &b { a: 1, a: 2 }\none: *b\ntwo: *b\n', 'x.yaml');
    assert.deepEqual(where(parsed.diagnostics), ['duplicate-key@1:18']);
  });

  it('refuses a billion laughs', () => {
    const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const parsed = parseYaml(lines.join('\n') + '\n', 'bomb.yaml');
    assert.equal(parsed.root, undefined);
    assert.deepEqual(parsed.diagnostics.map((d) => d.code), ['yaml-too-large']);
  });

  it('accepts a large document without aliases (more nodes than the alias limit)', () => {
    const count = MAX_ALIAS_NODES + 10_000;
    const text = `hosts:\n${Array.from({ length: count }, (_, i) => `  - h${i}\n`).join('')}`;
    const parsed = parseYaml(text, 'big.yaml');
    assert.deepEqual(parsed.diagnostics, []);
    assert.equal(parsed.root?.type === 'map' && parsed.root.pairs[0]!.value.type === 'seq' && parsed.root.pairs[0]!.value.items.length, count);
  });

  it('resolves an alias to the last anchor of that name written before it', () => {
    const parsed = parseYaml('a: &x 1\nb: *x\nc: &x 2\nd: *x\n', 'x.yaml');
    assert.deepEqual(toPlainValue(parsed.root!), { a: 1, b: 1, c: 2, d: 2 });
    assert.deepEqual(where(parseYaml('a: *nope\n', 'x.yaml').diagnostics), ['yaml-syntax@1:4']);
  });

  it(`refuses nesting deeper than ${MAX_YAML_DEPTH} levels at the place it goes too deep, even 20000 deep`, () => {
    for (const depth of [MAX_YAML_DEPTH + 1, 20_000]) {
      const parsed = parseYaml(`a: ${'['.repeat(depth)}${']'.repeat(depth)}\n`, 'deep.yaml');
      assert.equal(parsed.root, undefined);
      // The root mapping is level 1, so the list at level MAX_YAML_DEPTH + 1 is refused.
      assert.deepEqual(where(parsed.diagnostics), [`yaml-too-deep@1:${4 + MAX_YAML_DEPTH - 1}`]);
    }
    const block = Array.from({ length: 150 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n') + ' 1\n';
    assert.deepEqual(where(parseYaml(block, 'deep.yaml').diagnostics), [`yaml-too-deep@${MAX_YAML_DEPTH + 1}:${2 * MAX_YAML_DEPTH + 1}`]);
    // Exactly at the limit is fine.
    const ok = parseYaml(`a: ${'['.repeat(MAX_YAML_DEPTH - 1)}${']'.repeat(MAX_YAML_DEPTH - 1)}\n`, 'ok.yaml');
    assert.deepEqual(ok.diagnostics, []);
  });

  it('counts nesting that aliases add up', () => {
    const lines = ['l0: &l0 [1]'];
    for (let i = 1; i < MAX_YAML_DEPTH + 5; i++) lines.push(`l${i}: &l${i} [*l${i - 1}]`);
    const parsed = parseYaml(lines.join('\n') + '\n', 'chain.yaml');
    assert.equal(parsed.root, undefined);
    assert.deepEqual(parsed.diagnostics.map((d) => d.code), ['yaml-too-deep']);
  });
});
