/**
 * `npm run bench`: DESIGN.md's performance targets, measured side by side on the lab. For each
 * fleet size, on a fresh lab in the bench's address block: `sshfix plan` of the shipped playbooks,
 * the OpenSSH floor (one ssh per host running sshfix's fact script), and `ansible-playbook --check
 * --diff` of the equivalent lineinfile playbook, all with the same forks. Prints a report, writes
 * build/bench-results.json, and exits 0 whatever the targets say; non-zero only when the bench
 * itself breaks (1) or is interrupted (130). The lab is stopped in every case.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, requireLabMachine } from '../helpers/lab-fixture.js';
import { findAnsible, prepareAnsible, runAnsible, type AnsibleAvailability } from './ansible-contender.js';
import { BENCH_MAX_HOSTS, startBenchLab, stopBenchLab, type BenchLab } from './bench-lab.js';
import { BenchUsageError, parseBenchOptions, SIMULATED_LAB_HOSTS, USAGE, type BenchOptions } from './bench-options.js';
import { startLatencyRelays } from './latency-relay.js';
import { benchLoad, renderLoad, type LoadResult } from './load-bench.js';
import { factScriptBreakdown, renderBreakdown } from './fact-breakdown.js';
import { prepareFloor, runFloor, runLogin } from './floor-contender.js';
import { hostCpuMsPerHostSince, markHostCpu } from './host-cpu.js';
import { METHOD_NOTES, renderSize, type SizeResult } from './render-bench.js';
import { spreadFleet, type RunContext } from './run-context.js';
import { CONTENDER_LABELS, type ContenderId, type RunRecord } from './run-record.js';
import { prepareSshfix, runSshfix } from './sshfix-contender.js';
import { judgeLargeFleet, judgeTargets, summarise } from './targets.js';
import { requireGnuTime, stopRunningChildren } from './timed-process.js';

export const RESULTS_FILE = join(REPO_ROOT, 'build', 'bench-results.json');
/** A pause between runs, so one run's sessions have ended before the next starts. */
const SETTLE_MS = 2000;

const say = (line: string): void => void process.stderr.write(`${line}\n`);

class Interrupted extends Error {
  override name = 'Interrupted';
}

const interrupt = new AbortController();

function onInterrupt(sig: NodeJS.Signals): void {
  if (interrupt.signal.aborted) return;
  say(`\nbench: ${sig}: stopping the running contender, then the lab (a lab being started is let finish first)`);
  interrupt.abort();
  stopRunningChildren();
}

interface Contender {
  id: ContenderId;
  run(label: string): Promise<RunRecord>;
}

function contendersFor(ctx: RunContext, ansible: AnsibleAvailability): Contender[] {
  const floorFiles = prepareFloor(ctx);
  const inventory = prepareSshfix(ctx);
  const contenders: Contender[] = [
    { id: 'login', run: (label) => runLogin(ctx, floorFiles, label) },
    { id: 'floor', run: (label) => runFloor(ctx, floorFiles, label) },
    { id: 'sshfix', run: (label) => runSshfix(ctx, inventory, label) },
  ];
  if (ansible.available) {
    const ansibleFiles = prepareAnsible(ctx, floorFiles.sshConfig);
    contenders.push({ id: 'ansible', run: (label) => runAnsible(ctx, ansibleFiles, label) });
  }
  return contenders;
}

/**
 * The lab's hosts and the runner share this machine's CPUs. When a run keeps them all busy, its
 * wall time is the total CPU work (runner plus every host's sshd sessions) divided by the CPUs,
 * not network latency as on a real fleet: say so next to the numbers.
 */
function cpuBoundNotes(result: SizeResult, machineCpus: number): string[] {
  const bound = Object.entries(result.summaries).filter(([, s]) => s.machineCpuSeconds / s.wallSeconds >= 0.85 * machineCpus);
  if (bound.length === 0) return [];
  const names = bound.map(([id, s]) => `${CONTENDER_LABELS[id as ContenderId]} ${(s.machineCpuSeconds / s.wallSeconds).toFixed(1)}`);
  return [
    `CPU-bound: CPUs busy on average during the runs (of ${machineCpus}): ${names.join(', ')}. ` +
      'The lab hosts and the runner share these CPUs, so wall time here is total CPU work (runner plus every sshd session) ' +
      'divided by the CPUs, not network latency as on a real fleet; server-side work per host counts in full.',
  ];
}

/** Hosts that some contender read and another did not make the comparison less than like for like. */
function likeForLikeNotes(result: SizeResult): string[] {
  const done = Object.entries(result.summaries).map(([id, s]) => `${CONTENDER_LABELS[id as ContenderId]} ${s.hostsDone}/${s.hosts}`);
  const counts = new Set(Object.values(result.summaries).map((s) => s.hostsDone));
  return counts.size > 1 ? [`the contenders did not all read the same number of hosts (${done.join(', ')}): compare with care`] : [];
}

/** One size's lab: the runs at each latency, each its own result. */
async function benchSize(options: BenchOptions, index: number, root: string, ansible: AnsibleAvailability): Promise<SizeResult[]> {
  const hosts = options.sizes[index] as number;
  const simulated = hosts > BENCH_MAX_HOSTS;
  const labHosts = simulated ? SIMULATED_LAB_HOSTS : hosts;
  const labDir = join(root, `lab-${hosts}`);
  say(`bench: starting a lab of ${labHosts} hosts in ${labDir}${simulated ? ` (a simulated fleet of ${hosts})` : ''}`);
  const up = await startBenchLab(labDir, labHosts, options.openssh);
  try {
    if (interrupt.signal.aborted) throw new Interrupted();
    if (!up.ok) {
      const labError = `the lab of ${labHosts} hosts did not start: ${up.started} came up in ${up.seconds.toFixed(1)} s before it failed (${up.message})`;
      return [{ hosts, runs: [], summaries: {}, targets: [], notes: [], labUpSeconds: up.seconds, labError }];
    }
    const results: SizeResult[] = [];
    for (const latencyMs of options.latencies) {
      const result = await benchLatency(options, index, root, ansible, up.lab, latencyMs);
      result.labUpSeconds = up.seconds;
      if (simulated) result.labHosts = labHosts;
      results.push(result);
    }
    return results;
  } finally {
    say(`bench: stopping the lab of ${labHosts} hosts`);
    const down = await stopBenchLab(labDir);
    if (down.status !== 0) say(`bench: WARNING: lab down --dir ${labDir} exited ${down.status}:\n${down.output}`);
  }
}

async function benchLatency(options: BenchOptions, index: number, root: string, ansible: AnsibleAvailability, lab: BenchLab, latencyMs: number): Promise<SizeResult> {
  const hosts = options.sizes[index] as number;
  const reps = options.reps[index] as number;
  const simulated = hosts > BENCH_MAX_HOSTS;
  const workDir = join(root, `work-${hosts}${latencyMs > 0 ? `-${latencyMs}ms` : ''}`);
  mkdirSync(workDir, { recursive: true });
  const result: SizeResult = { hosts, runs: [], summaries: {}, targets: [], notes: [], ...(latencyMs > 0 ? { latencyMs } : {}) };
  const relays = latencyMs > 0 ? await startLatencyRelays(lab, latencyMs, workDir) : undefined;
  try {
    const seen = relays?.lab ?? lab;
    const ctx: RunContext = { lab: seen, fleet: simulated ? spreadFleet(seen.hosts, hosts) : seen.hosts, workDir, forks: options.forks, connectTimeoutS: options.connectTimeoutS };
    const all = contendersFor(ctx, ansible);
    const contenders = simulated ? all.filter((c) => c.id === 'sshfix') : all;
    const first = lab.hosts.find((h) => h.scenario !== 'legacy-kex');
    if (first && !relays) result.breakdown = renderBreakdown(factScriptBreakdown(join(workDir, 'ssh_config'), first.address), first.address);
    for (let rep = 0; rep < reps; rep++) {
      for (let k = 0; k < contenders.length; k++) {
        const contender = contenders[(rep + k) % contenders.length] as Contender;
        if (interrupt.signal.aborted) throw new Interrupted();
        say(`bench: ${hosts} hosts${latencyMs > 0 ? ` at ${latencyMs} ms` : ''}, run ${rep + 1}/${reps}: ${CONTENDER_LABELS[contender.id]}`);
        let record: RunRecord;
        const hostCpu = markHostCpu(lab.hosts);
        try {
          record = await contender.run(`${contender.id}-${rep + 1}`);
        } catch (error) {
          if (interrupt.signal.aborted) throw new Interrupted();
          throw error;
        }
        if (interrupt.signal.aborted) throw new Interrupted();
        record.hostCpuMsPerHost = await hostCpuMsPerHostSince(lab.hosts, hostCpu, record.hosts);
        say(`bench:   ${record.cost.wallSeconds.toFixed(2)} s, ${record.hostsDone}/${record.hosts} hosts read, ${record.hostCpuMsPerHost.toFixed(1)} ms host CPU per host`);
        result.runs.push(record);
        await sleep(SETTLE_MS);
      }
    }
    for (const contender of contenders) {
      const summary = summarise(result.runs.filter((r) => r.contender === contender.id));
      if (summary) result.summaries[contender.id] = summary;
    }
    result.targets = simulated ? judgeLargeFleet(hosts, options.forks, result.summaries) : judgeTargets(hosts, result.summaries);
    result.notes.push(...likeForLikeNotes(result), ...cpuBoundNotes(result, cpus().length));
    if (relays) result.relayedBytes = relays.bytes();
    return result;
  } finally {
    await relays?.close();
  }
}

function machineFacts(): Record<string, unknown> {
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  return {
    cpus: cpus().length,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    loadAverageAtStart: loadavg(),
    node: process.version,
    openssh: (ssh.stderr || ssh.stdout).trim(),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    say(`bench: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const fleet = options.parts.includes('fleet');
  if (fleet) requireLabMachine();
  requireGnuTime();
  const machine: Record<string, unknown> = { ...machineFacts(), ...(options.openssh ? { labOpenssh: options.openssh } : {}) };
  const ansible: AnsibleAvailability = !fleet
    ? { available: false, reason: 'left out (--only load)' }
    : options.ansible ? findAnsible() : { available: false, reason: 'left out (--no-ansible)' };
  if (fleet) {
    process.stdout.write(
      `sshfix bench: sizes ${options.sizes.join(', ')} (runs ${options.reps.join(', ')}), forks ${options.forks} for all contenders, ` +
        `connect timeout ${options.connectTimeoutS} s${options.latencies.some((ms) => ms > 0) ? `, added latency ${options.latencies.join(', ')} ms each way` : ''}; machine: ${String(machine['cpus'])} CPUs, ${String(machine['memoryMb'])} MB, ${String(machine['openssh'])}` +
        `${options.openssh ? `; lab hosts on the OpenSSH ${options.openssh} build` : ''}\n` +
        `Ansible: ${ansible.available ? ansible.version : `NOT MEASURED: ${ansible.reason}`}\n\n`,
    );
  }

  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  // Not under /tmp: every lab host mounts its own /tmp, which would hide the lab's files.
  const root = mkdtempSync('/var/tmp/sshfix-bench-');
  const results: SizeResult[] = [];
  let load: LoadResult[] = [];
  let failure: unknown;
  try {
    if (options.parts.includes('load')) {
      say('bench: load time: generating a 5 MB playbook and a 100k-host inventory, then timing sshfix validate on each');
      load = await benchLoad(root);
      process.stdout.write(`${renderLoad(load)}\n`);
    }
    for (let i = 0; fleet && i < options.sizes.length; i++) {
      const sized = await benchSize(options, i, root, ansible);
      if (interrupt.signal.aborted) throw new Interrupted();
      results.push(...sized);
      for (const result of sized) process.stdout.write(`${renderSize(result, options.forks)}\n`);
    }
  } catch (error) {
    failure = error;
  } finally {
    if (options.keep) say(`bench: outputs kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
  if (fleet) process.stdout.write(`how this was measured:\n${METHOD_NOTES.map((n) => `  ${n}`).join('\n')}\n`);

  mkdirSync(join(REPO_ROOT, 'build'), { recursive: true });
  const interrupted = failure instanceof Interrupted;
  const document = {
    format: 1,
    generatedAt: new Date().toISOString(),
    complete: failure === undefined,
    machine,
    options,
    ansible,
    method: METHOD_NOTES,
    sizes: results,
    load,
  };
  writeFileSync(RESULTS_FILE, JSON.stringify(document, null, 2) + '\n');
  process.stdout.write(`results: ${RESULTS_FILE}\n`);
  if (interrupted) return 130;
  if (failure !== undefined) {
    say(`bench: FAILED: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
