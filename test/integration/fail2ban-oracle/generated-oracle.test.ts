import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { evaluateFail2banJails, splitFail2banWords, type Fail2banJail } from '../../../src/config/fail2ban/effective.js';
import { buildFail2banLayers } from '../../../src/config/fail2ban/layers.js';
import { fail2banConfig, type GeneratedConfig } from './generate.js';
import { assertFail2banAvailable, dumpConfigs, parseDump, STOCK_FILES, stockText, type DumpedJail } from './oracle.js';

const COUNT = 520;
const BASE = '/etc/fail2ban';
/** Keys compared besides ignoreip, enabled (the started jails) and backend. */
const KEYS = ['maxretry', 'maxmatches', 'findtime', 'bantime', 'usedns'];

function snapshotOf(config: GeneratedConfig): { files: Map<string, string>; listedDirs: Set<string> } {
  const files = new Map<string, string>();
  for (const f of STOCK_FILES) files.set(`${BASE}/${f}`, stockText(f));
  for (const [rel, text] of config.files) files.set(`${BASE}/${rel}`, text);
  return { files, listedDirs: new Set([BASE, `${BASE}/jail.d`]) };
}

function compare(engine: Fail2banJail[], dumped: Map<string, DumpedJail>): string[] {
  const problems: string[] = [];
  const started = engine.filter((j) => j.enabled).map((j) => j.name).sort();
  if (started.join(',') !== [...dumped.keys()].sort().join(',')) problems.push(`enabled jails: engine [${started}] fail2ban [${[...dumped.keys()]}]`);
  for (const j of engine.filter((x) => x.enabled)) {
    const d = dumped.get(j.name);
    if (!d) continue;
    if (j.values.get('backend') !== d.backend) problems.push(`${j.name} backend: engine ${String(j.values.get('backend'))} fail2ban ${d.backend}`);
    const ip = j.values.get('ignoreip');
    const engineIps = typeof ip === 'string' ? splitFail2banWords(ip) : undefined;
    if (JSON.stringify(engineIps) !== JSON.stringify(d.ignoreip)) problems.push(`${j.name} ignoreip: engine ${JSON.stringify(engineIps)} fail2ban ${JSON.stringify(d.ignoreip)}`);
    for (const k of KEYS) {
      const e = j.values.has(k) ? j.values.get(k) : undefined;
      const f = d.values.has(k) ? d.values.get(k) : undefined;
      if (JSON.stringify(e) !== JSON.stringify(f)) problems.push(`${j.name} ${k}: engine ${JSON.stringify(e)} fail2ban ${JSON.stringify(f)}`);
    }
  }
  return problems;
}

describe('fail2ban-client -d oracle on generated layered configs', () => {
  before(() => assertFail2banAvailable());

  it(`engine reads ${COUNT} generated configs as fail2ban does (refusal, enabled jails, ignoreip, ${KEYS.join(', ')}, backend)`, async () => {
    const configs = fc.sample(fail2banConfig, { numRuns: COUNT, seed: 20261130 });
    const outcomes = await dumpConfigs(configs.map((c) => c.files), 2);
    const failures: string[] = [];
    let refused = 0;
    let withIgnoreIp = 0;
    configs.forEach((c, i) => {
      const { layers } = buildFail2banLayers(snapshotOf(c), BASE);
      const evaluation = evaluateFail2banJails(layers);
      const engineRefuses = evaluation.diagnostics.some((d) => d.severity === 'error');
      const outcome = outcomes[i]!;
      const show = (): string => `--- case ${i}\n${[...c.files].map(([p, x]) => `== ${p}\n${x}`).join('\n')}\n-- fail2ban exit ${outcome.exitCode} stderr: ${outcome.stderr.slice(0, 600)}\n-- engine: ${JSON.stringify(evaluation.diagnostics.filter((d) => d.severity === 'error'))}`;
      if ((outcome.exitCode !== 0) !== engineRefuses) {
        failures.push(show());
        return;
      }
      if (outcome.exitCode !== 0) {
        refused++;
        return;
      }
      const dumped = parseDump(outcome.stdout);
      if ([...dumped.values()].some((d) => d.ignoreip !== undefined)) withIgnoreIp++;
      const problems = compare(evaluation.jails, dumped);
      if (problems.length) failures.push(`${show()}\n${problems.join('\n')}`);
    });
    assert.equal(failures.length, 0, `${failures.length} mismatches:\n${failures.slice(0, 3).join('\n\n')}`);
    assert.ok(refused > 10 && refused < COUNT / 2, `expected some refused configs among the generated ones, got ${refused}`);
    assert.ok(withIgnoreIp > COUNT / 5, `expected many configs with an ignoreip, got ${withIgnoreIp}`);
  });
});
