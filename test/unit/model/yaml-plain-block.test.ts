import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readPlainBlockYaml } from '../../../src/lang/yaml-plain-block.js';
import { parseYaml, parseYamlWithLibrary } from '../../../src/lang/yaml-tree.js';
import { bigInventory, bigPlaybook } from '../../bench/load-bench.js';
import { REPO_ROOT, where } from './helpers.js';

/** The plain-block reader must return exactly what the library path returns, or decline. */
function agrees(text: string): 'taken' | 'declined' {
  const plain = readPlainBlockYaml(text, 'f.yaml');
  if (plain === undefined) return 'declined';
  assert.deepStrictEqual(plain, parseYamlWithLibrary(text, 'f.yaml'), `the readers differ on ${JSON.stringify(text)}`);
  return 'taken';
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

// Building blocks chosen to sit on the subset's edges: keys and values that resolve to non-strings,
// that hold `:`, `#`, quotes, brackets; flow collections; comments and blank lines anywhere.
const KEYS = ['a', 'b', 'a', 'name', 'web-01.example.net', 'x y', '"q k"', "'s k'", "'it''s'", '1', 'true', 'null', '~', 'a:b', 'k#', 'web-[01:03]', '10.0.0.1', 'a ', 'é', '""', "''", 'k"', 'a\\b', 'a,b'];
const SCALARS = ['1', '-1', '0x1F', '0o17', '1.0', '1e3', '.inf', '-.inf', '.nan', 'true', 'False', 'null', 'Null', '~', 'plain', 'two words', 'with: colon', 'a:b', 'ends:', 'x #c', 'x# no', '"dq"', '"d\\"q"', '"a#b"', "'sq'", "'it''s'", '[a, b]', '[a, "b", \'c\']', '[]', '{}', '{ k: v }', '{k: v, k: w}', '[a, [b, c]]', '[a,]', '[a b]', '{ "k": 1 }', 'a, b', 'a]', 'x  ', '"a" #c', 'a\\b', '1:2', '{ a: [1, 2], b: { c: d } }', '0', '+1', '.5', 'yes', '"é"', '""', "''", '" "', '1.', '-0', '3.14e-2'];
const MUTATIONS = [' ', '\n', ':', '#', '-', '"', "'", '[', ']', '{', '}', ',', 'x', '  ', '\t', '&a ', '*a', '|', '---\n', '\r\n'];

type Tree = { scalar: string } | { map: [string, Tree][] } | { seq: Tree[] };

/** A block-style document built from `choices` (fast-check shrinks the choices), maybe with one character changed. */
function documentFrom(choices: readonly number[]): string {
  let at = 0;
  const next = (n: number): number => (choices.length === 0 ? 0 : choices[at++ % choices.length]! % n);
  const pick = <T>(list: readonly T[]): T => list[next(list.length)]!;
  const tree = (depth: number): Tree => {
    const r = next(10);
    if (depth > 3 || r < 4) return { scalar: pick(SCALARS) };
    if (r < 7) return { map: Array.from({ length: 1 + next(4) }, () => [pick(KEYS), tree(depth + 1)] as [string, Tree]) };
    return { seq: Array.from({ length: 1 + next(3) }, () => tree(depth + 1)) };
  };
  const out: string[] = [];
  const step = pick([2, 2, 4, 1, 3]);
  const between = (indent: number): void => {
    const r = next(20);
    if (r === 0) out.push('');
    else if (r === 1) out.push(`${' '.repeat(pick([0, indent, indent + 2, Math.max(0, indent - 2)]))}# c`);
  };
  const value = (node: Tree, indent: number): void => {
    if ('scalar' in node) {
      out[out.length - 1] += ` ${node.scalar}${pick(['', '', '', ' ', '  # t', ' #t'])}`;
    } else if ('map' in node) {
      out[out.length - 1] += pick(['', '', ' ', ' # c']);
      for (const [key, child] of node.map) {
        between(indent + step);
        out.push(`${' '.repeat(indent + step)}${key}:`);
        value(child, indent + step);
      }
    } else {
      const dash = next(3) === 0 ? indent : indent + step;
      for (const item of node.seq) {
        between(dash);
        if ('scalar' in item) out.push(`${' '.repeat(dash)}- ${item.scalar}`);
        else if ('map' in item) {
          item.map.forEach(([key, child], i) => {
            out.push(`${' '.repeat(i === 0 ? dash : dash + 2)}${i === 0 ? '- ' : ''}${key}:`);
            value(child, dash + 2);
          });
        } else out.push(`${' '.repeat(dash)}- [x]`);
      }
    }
  };
  for (let i = 1 + next(4); i > 0; i--) {
    between(0);
    out.push(`${pick(KEYS)}:`);
    value(tree(1), 0);
  }
  let text = out.join('\n') + pick(['\n', '', '\n\n', '\n# end\n', '\n  ', '\n\n  # e\n']);
  const mutation = next(10);
  if (mutation >= 6) {
    const i = next(text.length + 1);
    const ch = pick(MUTATIONS);
    text = mutation < 8 ? text.slice(0, i) + ch + text.slice(i) : mutation < 9 ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + ch + text.slice(i + 1);
  }
  return text;
}

describe('the plain block-style YAML reader', () => {
  const repositoryFiles = [...yamlFiles(join(REPO_ROOT, 'playbooks')), ...yamlFiles(join(REPO_ROOT, 'test/fixtures')), join(REPO_ROOT, 'inventory.example.yaml')];

  it('reads every YAML file of the repository as the library does, or declines it', () => {
    const outcomes = repositoryFiles.map((file) => agrees(readFileSync(file, 'utf8')));
    // Most of them are in the subset: the comparison is not vacuous.
    assert.ok(outcomes.filter((o) => o === 'taken').length > repositoryFiles.length / 2, `${outcomes.filter((o) => o === 'taken').length} of ${repositoryFiles.length} taken`);
  });

  it("reads the repository's YAML files with a few characters changed as the library does, or declines them", () => {
    const texts = repositoryFiles.map((file) => readFileSync(file, 'utf8'));
    const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), insert: fc.constantFrom('', ...MUTATIONS, ': ', ' #', '- ', '\n  ', '\n    - ', '1', '~') });
    let taken = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 3 }), (which, edits) => {
        runs++;
        let text = texts[which % texts.length]!;
        for (const { at, cut, insert } of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + cut);
        }
        if (agrees(text) === 'taken') taken++;
      }),
      { numRuns: 1000 },
    );
    assert.ok(taken > runs / 10, `only ${taken} of ${runs} edited files taken`);
  });

  it('reads generated and mutated documents as the library does, or declines them', () => {
    let taken = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 20, maxLength: 200 }), (choices) => {
        runs++;
        if (agrees(documentFrom(choices)) === 'taken') taken++;
      }),
      { numRuns: 3000 },
    );
    assert.ok(taken > runs / 20, `only ${taken} of ${runs} documents taken: the property compares almost nothing`);
  });

  it("takes the load benchmark's inventory and playbook (the files it exists for)", () => {
    assert.equal(agrees(bigInventory(300).text), 'taken');
    assert.equal(agrees(bigPlaybook({ vars: 300, tasks: 20 }).text), 'taken');
  });

  it('declines what it does not read, and parseYaml still reads it', () => {
    const outside = [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: |\n  text\n',
      'a: >\n  text\n',
      'a: one\n  two\n',
      'a: "x\\ty"\n',
      'a:\n\tb: 1\n',
      'a: 1\r\nb: 2\r\n',
      '---\na: 1\n',
      'a: 1\n---\nb: 2\n',
      'a:\n  b: 1\n  # closing comment\nc: 2\n',
      'a: 1\n# trailing comment\n',
      'a: [1,\n  2]\n',
      '? a\n: 1\n',
      '1: one\n',
      'null: x\n',
      'a: b: c\n',
      '- - a\n',
      '-\n  a: 1\n',
      '  a: 1\n',
    ];
    for (const text of outside) {
      assert.equal(readPlainBlockYaml(text, 'f.yaml'), undefined, JSON.stringify(text));
      assert.deepStrictEqual(parseYaml(text, 'f.yaml'), parseYamlWithLibrary(text, 'f.yaml'));
    }
  });

  it('reports duplicate keys, nested ones first, at the same places as the library', () => {
    const text = 'hosts:\n  web-01: { port: 1, port: 2 }\n  web-01:\n    user: a\n    user: b\ngroups: []\n';
    assert.equal(agrees(text), 'taken');
    assert.deepEqual(where(parseYaml(text, 'f.yaml').diagnostics), ['duplicate-key@2:22', 'duplicate-key@5:5', 'duplicate-key@3:3']);
  });
});
