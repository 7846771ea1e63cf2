/**
 * `sshfix plan` of the shipped playbooks, the built CLI as a user runs it (JSON report on
 * stdout), with the ssh2 census hook loaded to count its connections and exec round trips.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO_ROOT } from '../helpers/lab-fixture.js';
import { loginsSince, markAuthLogs } from './auth-log.js';
import { BENCH_PLAYBOOKS, renderSshfixInventory } from './fleet-files.js';
import { countBy, perHost, type RunRecord } from './run-record.js';
import { perFleetHost, runFiles, type RunContext } from './run-context.js';
import { CENSUS_FILE_ENV, readCensus } from './ssh2-census.js';
import { runTimed } from './timed-process.js';

const HOOK = new URL('./ssh2-census-hook.js', import.meta.url).href;

interface PlanReport {
  hosts: { name: string; address: string; status: string; error?: { code: string } }[];
}

/** Statuses where sshfix read the host's facts: also a host whose live config sshd -t already rejects. */
const READ_STATUSES = new Set(['ok', 'changed']);
const READ_FAILURES = new Set(['config-invalid', 'validation-failed']);

export function prepareSshfix(ctx: RunContext): string {
  const inventory = join(ctx.workDir, 'sshfix-inventory.yaml');
  writeFileSync(inventory, renderSshfixInventory({ ...ctx.lab, hosts: [...ctx.fleet] }, { connectTimeoutS: ctx.connectTimeoutS }));
  return inventory;
}

export async function runSshfix(ctx: RunContext, inventory: string, label: string): Promise<RunRecord> {
  const files = runFiles(ctx, label);
  const censusFile = join(ctx.workDir, `${label}.census.json`);
  const marks = markAuthLogs(ctx.lab.hosts);
  const cost = await runTimed({
    command: process.execPath,
    args: ['--import', HOOK, CLI, 'plan', ...BENCH_PLAYBOOKS, '-i', inventory, '--format', 'json', '--forks', String(ctx.forks)],
    cwd: REPO_ROOT,
    env: { ...process.env, CI: '1', [CENSUS_FILE_ENV]: censusFile },
    stdoutFile: files.stdout,
    stderrFile: files.stderr,
    timeFile: files.time,
  });
  const logins = loginsSince(ctx.lab.hosts, marks);
  let report: PlanReport;
  try {
    report = JSON.parse(readFileSync(files.stdout, 'utf8')) as PlanReport;
  } catch {
    throw new Error(`sshfix plan (exit ${cost.exitCode ?? cost.signal}) printed no JSON report; see ${files.stderr}`);
  }
  const census = readCensus(censusFile) ?? {};
  const counted = (address: string): { connects: number; execs: number } => census[address] ?? { connects: 0, execs: 0 };
  const loginsAt = new Map(ctx.lab.hosts.map((h) => [h.address, logins.get(h.name) ?? 0]));
  const done = report.hosts.filter((h) => READ_STATUSES.has(h.status) || (h.status === 'failed' && READ_FAILURES.has(h.error?.code ?? '')));
  return {
    contender: 'sshfix',
    cost,
    hosts: ctx.fleet.length,
    hostsDone: done.length,
    outcome: countBy(report.hosts, (h) => (h.error ? `${h.status} ${h.error.code}` : h.status)),
    logins: perHost(perFleetHost(ctx, (address) => loginsAt.get(address) ?? 0)),
    connects: perHost(perFleetHost(ctx, (address) => counted(address).connects)),
    execs: perHost(perFleetHost(ctx, (address) => counted(address).execs)),
  };
}
