import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Diagnostic } from '../../../src/util/diagnostics.js';
import { loadInventory, type Inventory } from '../../../src/model/inventory.js';
import { withImplicitLocalhost } from '../../../src/model/implicit-localhost.js';
import { loadPlaybook } from '../../../src/model/playbook.js';
import { evaluateTaskCondition, renderTask } from '../../../src/model/render-task.js';
import { createHostScope } from '../../../src/model/variables.js';
import { dedupeDiagnostics, sortDiagnostics, validateProject } from '../../../src/model/validate-project.js';
import { renderDiagnostics } from '../../../src/report/render-diagnostics.js';
import { REPO_ROOT, where } from './helpers.js';

/**
 * The bad-input corpus: one file per mistake under test/fixtures/bad-inputs/{inventory,playbook}/,
 * whose first line records every diagnostic expected, e.g.
 *     # expect: unknown-key@4:3, warning no-credentials@5:3
 * Playbooks are validated against test/fixtures/good-inputs/inventory.yaml.
 */

const BAD = join(REPO_ROOT, 'test/fixtures/bad-inputs');
const GOOD = join(REPO_ROOT, 'test/fixtures/good-inputs');
const options = (file: string) => ({ file, homeDir: '/home/ops', localUser: 'ops', baseDir: '/srv/fleet' });

const goodInventory = (): Inventory =>
  loadInventory(readFileSync(join(GOOD, 'inventory.yaml'), 'utf8'), options('inventory.yaml')).inventory;

function checkInventory(text: string, file: string): Diagnostic[] {
  return loadInventory(text, options(file)).diagnostics;
}

function checkPlaybook(text: string, file: string, inventory: Inventory): Diagnostic[] {
  const loaded = loadPlaybook(text, file);
  // As the CLI reads inputs: a play naming localhost gets the implicit one.
  const withLocalhost = withImplicitLocalhost(inventory, loaded.playbook.plays.map((p) => p.hosts), { localUser: 'ops', knownHosts: '/home/ops/.ssh/known_hosts' });
  return sortDiagnostics(dedupeDiagnostics([...loaded.diagnostics, ...validateProject({ inventory: withLocalhost, playbooks: [loaded.playbook] })]));
}

function expectations(text: string): string[] {
  const first = text.split('\n')[0] ?? '';
  const match = /^# expect: (.+)$/.exec(first);
  assert.ok(match, 'the first line must be "# expect: code@line:column, ..."');
  return match[1]!.split(',').map((s) => s.trim());
}

const yamlFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('bad inputs are rejected exactly as recorded', () => {
  const inventory = goodInventory();
  const total = yamlFiles(join(BAD, 'inventory')).length + yamlFiles(join(BAD, 'playbook')).length;
  it(`the corpus holds at least 40 files (${total})`, () => assert.ok(total >= 40));
  for (const kind of ['inventory', 'playbook'] as const) {
    for (const file of yamlFiles(join(BAD, kind))) {
      it(`${kind}/${file}`, () => {
        const text = readFileSync(join(BAD, kind, file), 'utf8');
        const diagnostics = kind === 'inventory' ? checkInventory(text, file) : checkPlaybook(text, file, inventory);
        assert.deepEqual(where(diagnostics), expectations(text));
        for (const d of diagnostics) {
          assert.equal(d.file, file);
          assert.ok(d.message.length > 0 && !d.message.includes('\n'), `one-line message: ${d.message}`);
        }
      });
    }
  }
});

describe('good inputs pass without a single diagnostic', () => {
  const inventories = [
    join(GOOD, 'inventory.yaml'),
    join(GOOD, 'inventory-connections.yaml'),
    join(REPO_ROOT, 'inventory.example.yaml'),
  ];
  for (const path of inventories) {
    it(path.slice(REPO_ROOT.length), () => {
      assert.deepEqual(where(checkInventory(readFileSync(path, 'utf8'), path)), []);
    });
  }
  const example = loadInventory(readFileSync(join(REPO_ROOT, 'inventory.example.yaml'), 'utf8'), options('inventory.example.yaml')).inventory;
  const playbooks = [
    ...yamlFiles(GOOD).filter((f) => !f.startsWith('inventory')).map((f) => ({ path: join(GOOD, f), inventory: goodInventory() })),
    ...yamlFiles(join(REPO_ROOT, 'playbooks')).map((f) => ({ path: join(REPO_ROOT, 'playbooks', f), inventory: example })),
  ];
  for (const { path, inventory } of playbooks) {
    it(path.slice(REPO_ROOT.length), () => {
      assert.deepEqual(where(checkPlaybook(readFileSync(path, 'utf8'), path, inventory)), []);
    });
  }
  it('every shipped file starts with its yaml-language-server schema line', () => {
    for (const path of [join(REPO_ROOT, 'inventory.example.yaml'), ...playbooks.map((p) => p.path)]) {
      const first = readFileSync(path, 'utf8').split('\n')[0]!;
      assert.match(first, /^# yaml-language-server: \$schema=\S+\.schema\.json$/, path);
    }
  });
});

/** mulberry32: a tiny seeded generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [':', ' ', '\n', '-', '- ', '{', '}', '[', ']', ',', '"', "'", '#', '&a ', '*a', '!', '|', '>', '\t', '{{', '}}', '{{ x }}',
  '~', '[01:99]', '[a:', 'null', 'true', '0', '-1', '99999', '1.5', 'web-*', '!web', 'sshd:', 'set:', 'when: ', 'match: ', 'and', ' == ', '(', ')',
  'ClientAliveInterval', 'MaxStartups', 'jump: web-01', 'jump: bastion-1', '<<: *a', '? ', '---\n', '...', '%YAML 1.2\n', 'é', '\u0000'];

function mutate(text: string, next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  let out = text;
  const count = 1 + Math.floor(next() * 3);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(next() * (out.length + 1));
    const lines = out.split('\n');
    const line = Math.floor(next() * lines.length);
    switch (Math.floor(next() * 7)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(next() * 8));
        break;
      case 1:
        out = out.slice(0, at) + pick(TOKENS) + out.slice(at);
        break;
      case 2:
        lines.splice(line, 0, lines[line] ?? '');
        out = lines.join('\n');
        break;
      case 3: {
        const other = Math.floor(next() * lines.length);
        [lines[line], lines[other]] = [lines[other] ?? '', lines[line] ?? ''];
        out = lines.join('\n');
        break;
      }
      case 4:
        lines[line] = next() < 0.5 ? `  ${lines[line]}` : (lines[line] ?? '').replace(/^ {1,2}/, '');
        out = lines.join('\n');
        break;
      case 5:
        out = out.slice(0, at);
        break;
      default:
        out = out.slice(0, at) + String.fromCharCode(32 + Math.floor(next() * 95)) + out.slice(at + 1);
    }
  }
  return out;
}

function assertWellFormed(diagnostics: readonly Diagnostic[], text: string): void {
  const lines = text.split('\n').length;
  for (const d of diagnostics) {
    assert.ok(d.severity === 'error' || d.severity === 'warning');
    assert.match(d.code, /^[a-z0-9-]+$/);
    assert.equal(typeof d.message, 'string');
    if (d.range) {
      assert.ok(d.range.start.line >= 1 && d.range.start.line <= lines + 1, `line ${d.range.start.line} of ${lines}`);
      assert.ok(d.range.start.column >= 1);
    }
  }
  renderDiagnostics(diagnostics, { sources: new Map([[diagnostics[0]?.file ?? '', text]]) });
}

describe('fuzz: mutated good files never crash the loaders (seeded, bounded)', () => {
  const CASES = Number(process.env.SSHFIX_FUZZ_CASES ?? 300);
  const inventory = goodInventory();
  const inventoryTexts = [join(GOOD, 'inventory.yaml'), join(GOOD, 'inventory-connections.yaml'), join(REPO_ROOT, 'inventory.example.yaml')]
    .map((p) => readFileSync(p, 'utf8'));
  const playbookTexts = [
    ...yamlFiles(GOOD).filter((f) => !f.startsWith('inventory')).map((f) => join(GOOD, f)),
    ...yamlFiles(join(REPO_ROOT, 'playbooks')).map((f) => join(REPO_ROOT, 'playbooks', f)),
  ].map((p) => readFileSync(p, 'utf8'));

  it(`${CASES} inventories`, () => {
    const next = random(20240601);
    for (let i = 0; i < CASES; i++) {
      const text = mutate(inventoryTexts[i % inventoryTexts.length]!, next);
      try {
        assertWellFormed(checkInventory(text, 'fuzz.yaml'), text);
      } catch (error) {
        assert.fail(`case ${i} (seed 20240601) threw on:\n${text}\n${String((error as Error).stack)}`);
      }
    }
  });

  it(`${CASES} playbooks`, () => {
    const next = random(7);
    for (let i = 0; i < CASES; i++) {
      const text = mutate(playbookTexts[i % playbookTexts.length]!, next);
      try {
        assertWellFormed(checkPlaybook(text, 'fuzz.yaml', inventory), text);
        // And the plan-time path, with facts known.
        const facts = { 'runner.address': '192.0.2.7', 'openssh.version': '9.2p1', 'os.id': 'debian' } as const;
        for (const play of loadPlaybook(text, 'fuzz.yaml').playbook.plays) {
          const scope = createHostScope({ host: inventory.hosts[i % inventory.hosts.length]!, playVars: play.vars, facts });
          for (const task of play.tasks) {
            const condition = evaluateTaskCondition(task, scope);
            if (condition.status === 'error') assertWellFormed(condition.diagnostics, text);
            assertWellFormed(renderTask(task, scope).diagnostics, text);
          }
        }
      } catch (error) {
        assert.fail(`case ${i} (seed 7) threw on:\n${text}\n${String((error as Error).stack)}`);
      }
    }
  });
});
