import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ensureIgnoreIp, setJailKeys, type Fail2banFileEdit } from '../../../src/config/fail2ban/edit.js';
import { evaluateFail2banJails, getFail2banOption, splitFail2banWords, type Fail2banJail } from '../../../src/config/fail2ban/effective.js';
import { findCoveringEntry, parseIgnoreIpEntry, parseIgnoreIpList } from '../../../src/config/fail2ban/ignoreip.js';
import { parseFail2banFile, stringifyFail2banFile } from '../../../src/config/fail2ban/parse.js';
import { buildFail2banLayers } from '../../../src/config/fail2ban/layers.js';
import { fail2banConfig, type GeneratedConfig } from './generate.js';
import { assertFail2banAvailable, dumpConfigs, parseDump, STOCK_FILES, stockText, type DumpedJail } from './oracle.js';

const COUNT = 520;
const EDIT_COUNT = 100;
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

describe('fail2ban-client -d oracle on edits of generated configs', () => {
  before(() => assertFail2banAvailable());

  it(`after ensureIgnoreIp and setJailKeys on ${EDIT_COUNT} generated configs, fail2ban reads the wanted values and keeps the old entries`, async () => {
    const configs = fc.sample(fail2banConfig, { numRuns: EDIT_COUNT * 2, seed: 4242 });
    const cases: { before: GeneratedConfig; after: Map<string, string>; oldWords: string[] }[] = [];
    const failures: string[] = [];
    let refusedEnable = 0;
    for (const c of configs) {
      if (cases.length >= EDIT_COUNT) break;
      for (const text of c.files.values()) if (stringifyFail2banFile(parseFail2banFile(text, '/x')) !== text) failures.push(`round trip: ${JSON.stringify(text)}`);
      const snap = snapshotOf(c);
      const { layers } = buildFail2banLayers(snap, BASE);
      if (evaluateFail2banJails(layers).diagnostics.some((d) => d.severity === 'error')) continue;
      const old = getFail2banOption(layers, 'sshd', 'ignoreip');
      // A broken ignoreip in a disabled sshd jail: fail2ban never reads it, the engine rightly refuses to extend it.
      if (old.status === 'error') continue;
      const oldWords = old.status === 'ok' ? splitFail2banWords(old.value) : [];
      const first = ensureIgnoreIp(layers, 'sshd', ['192.0.2.77', '2001:db8:77::/48']);
      const errors = first.warnings.filter((w) => w.severity === 'error');
      if (errors.length) {
        failures.push(`ensureIgnoreIp refused a config fail2ban reads: ${JSON.stringify(errors)}\n${[...c.files].map(([p, x]) => `== ${p}\n${x}`).join('\n')}`);
        continue;
      }
      const applied = (files: Map<string, string>, edits: Fail2banFileEdit[]): Map<string, string> => {
        const out = new Map(files);
        for (const e of edits) out.set(e.path, e.after);
        return out;
      };
      const files1 = applied(snap.files, first.edits);
      const second = setJailKeys(buildFail2banLayers({ ...snap, files: files1 }, BASE).layers, 'sshd', { enabled: 'true', maxretry: '7', bantime: '2h' });
      // Enabling sshd can expose a key fail2ban cannot read (never read while sshd was off): refused, as fail2ban would fail.
      if (second.warnings.some((w) => w.severity === 'error' && w.code === 'fail2ban-interpolation')) {
        refusedEnable++;
        continue;
      }
      if (second.warnings.some((w) => w.severity === 'error')) {
        failures.push(`setJailKeys refused: ${JSON.stringify(second.warnings)}`);
        continue;
      }
      const files2 = applied(files1, second.edits);
      for (const e of [...first.edits, ...second.edits]) if (!e.path.endsWith('.local') || e.path.endsWith('/fail2ban.local')) failures.push(`edited ${e.path}`);
      const after = new Map<string, string>();
      for (const [p, t] of files2) if (!STOCK_FILES.some((f) => p === `${BASE}/${f}`)) after.set(p.slice(BASE.length + 1), t);
      cases.push({ before: c, after, oldWords });
    }
    const outcomes = await dumpConfigs(cases.map((c) => c.after), 2);
    cases.forEach((c, i) => {
      const o = outcomes[i]!;
      const show = `${[...c.after].map(([p, x]) => `== ${p}\n${x}`).join('\n')}\n-- exit ${o.exitCode} ${o.stderr.slice(0, 400)}`;
      const sshd = parseDump(o.stdout).get('sshd');
      if (o.exitCode !== 0 || !sshd) {
        failures.push(`sshd not started after the edit:\n${show}`);
        return;
      }
      const words = sshd.ignoreip ?? [];
      // Wanted entries may already be covered by a listed network (checked against IPAddr.contains in values-oracle).
      const listed = parseIgnoreIpList(words.join(' '));
      const missing = [...c.oldWords.filter((w) => !words.includes(w)), ...['192.0.2.77', '2001:db8:77::/48'].filter((w) => findCoveringEntry(listed, parseIgnoreIpEntry(w)) === undefined)];
      if (missing.length) failures.push(`ignoreip lacks ${missing.join(' ')} (fail2ban: ${words.join(' ')}):\n${show}`);
      if (sshd.values.get('maxretry') !== 7 || sshd.values.get('bantime') !== '2h') failures.push(`maxretry/bantime: ${String(sshd.values.get('maxretry'))} ${String(sshd.values.get('bantime'))}:\n${show}`);
    });
    assert.equal(failures.length, 0, `${failures.length} failures:\n${failures.slice(0, 3).join('\n\n')}`);
    assert.ok(cases.length >= EDIT_COUNT * 0.8, `too few usable cases: ${cases.length}`);
    assert.ok(refusedEnable < EDIT_COUNT / 5, `too many refusals to enable sshd: ${refusedEnable}`);
  });
});
