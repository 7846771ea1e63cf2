/**
 * Load time: how long `sshfix validate` takes on a very large playbook and a very large
 * inventory, against the target of under 3 s each (issue 14). The files are generated into the
 * bench's scratch directory; no lab is needed. A missed target is reported, never a failure.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/lab-fixture.js';
import { runTimed } from './timed-process.js';
import type { Verdict } from './targets.js';

export const LOAD_TARGET_SECONDS = 3;

/** A playbook of about 5 MB with about 95,000 mapping keys: a huge `vars:` and many tasks. */
export const BIG_PLAYBOOK = { vars: 90_000, tasks: 1_500 } as const;
/** An inventory of 100,000 hosts, each with its address, in two groups. */
export const BIG_INVENTORY_HOSTS = 100_000;

/** A generated input: its text, and what it holds for the report. */
export interface LoadInput {
  text: string;
  description: string;
}

/** `size` smaller than the benchmark's lets a unit test check the same shape. */
export function bigPlaybook(size: { vars: number; tasks: number } = BIG_PLAYBOOK): LoadInput {
  const lines = ['name: Load-time benchmark', 'hosts: all', 'vars:', '  client_alive_interval: 60'];
  for (let i = 0; i < size.vars; i++) lines.push(`  var_${String(i).padStart(6, '0')}: "value number ${i} of the load-time benchmark"`);
  lines.push('tasks:');
  for (let i = 0; i < size.tasks; i++) {
    lines.push(
      `  - name: Task ${i} keeps idle sessions alive`,
      '    when: os.id == "debian" and not (openssh.version < "7.0")',
      '    sshd:',
      '      set:',
      '        ClientAliveInterval: "{{ client_alive_interval }}"',
    );
  }
  const text = `${lines.join('\n')}\n`;
  // Keys: name, hosts, vars, tasks; every variable; name, when, sshd, set and a keyword per task.
  const keys = 4 + 1 + size.vars + 5 * size.tasks;
  return { text, description: `playbook ${megabytes(text)} MB, ${keys} keys` };
}

export function bigInventory(hostCount = BIG_INVENTORY_HOSTS): LoadInput {
  const lines = ['defaults:', '  user: root', '  identity_file: ~/.ssh/id_ed25519', '  connect_timeout: 10s', 'vars:', '  max_startups: "100:30:500"', 'hosts:'];
  for (let i = 0; i < hostCount; i++) {
    const role = i % 4 === 0 ? 'db' : 'web';
    lines.push(`  ${role}-${String(i).padStart(6, '0')}.example.net:`, `    address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  lines.push('groups:', '  web:', '    hosts: ["web-*"]', '    vars: { client_alive_interval: 60 }', '  db:', '    hosts: ["db-*"]', '    user: admin');
  const text = `${lines.join('\n')}\n`;
  return { text, description: `inventory ${megabytes(text)} MB, ${hostCount} hosts` };
}

const megabytes = (text: string): string => (Buffer.byteLength(text) / 1e6).toFixed(1);

export interface LoadResult {
  input: string;
  command: string;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  exitCode: number | null;
  verdict: Verdict;
  /** Set when validate did not accept the file: the run measured something else. */
  error?: string;
}

/** Generates both inputs into `dir` and times `sshfix validate` on each, one after the other. */
export async function benchLoad(dir: string): Promise<LoadResult[]> {
  const smallInventory = join(dir, 'small-inventory.yaml');
  writeFileSync(smallInventory, 'defaults: { identity_file: id }\nhosts:\n  web-01: {}\n  web-02: {}\n');
  const playbook = bigPlaybook();
  const inventory = bigInventory();
  const playbookFile = join(dir, 'big-playbook.yaml');
  const inventoryFile = join(dir, 'big-inventory.yaml');
  writeFileSync(playbookFile, playbook.text);
  writeFileSync(inventoryFile, inventory.text);
  const cases = [
    { input: playbook.description, args: ['validate', '-i', smallInventory, playbookFile] },
    { input: inventory.description, args: ['validate', '-i', inventoryFile, join(REPO_ROOT, 'playbooks/server-keepalive.yaml')] },
  ];
  const results: LoadResult[] = [];
  for (const [index, { input, args }] of cases.entries()) {
    const files = { stdoutFile: join(dir, `load-${index}.out`), stderrFile: join(dir, `load-${index}.err`), timeFile: join(dir, `load-${index}.time`) };
    const cost = await runTimed({ command: process.execPath, args: [join(REPO_ROOT, 'build/src/cli/main.js'), ...args], cwd: dir, env: { ...process.env, NO_COLOR: '1' }, ...files });
    const result: LoadResult = {
      input,
      command: `sshfix ${args.map((a) => a.replace(`${dir}/`, '')).join(' ')}`,
      wallSeconds: cost.wallSeconds,
      cpuSeconds: cost.cpuSeconds,
      peakRssMb: cost.peakRssMb,
      exitCode: cost.exitCode,
      verdict: cost.exitCode === 0 ? (cost.wallSeconds < LOAD_TARGET_SECONDS ? 'PASS' : 'FAIL') : 'NOT MEASURED',
    };
    if (cost.exitCode !== 0) result.error = `validate exited ${String(cost.exitCode ?? cost.signal)}: see ${files.stderrFile}`;
    results.push(result);
  }
  return results;
}

/** The report's section: one line per input, and a note when the machine was busy. */
export function renderLoad(results: readonly LoadResult[]): string {
  const lines = [`load time: sshfix validate (target: under ${LOAD_TARGET_SECONDS} s wall each)`];
  const width = Math.max(...results.map((r) => r.input.length));
  for (const r of results) {
    const figures = `wall ${r.wallSeconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(2)} s, peak ${Math.round(r.peakRssMb)} MB`;
    lines.push(`  ${r.input.padEnd(width)}  ${figures}  ${r.verdict}${r.error ? ` (${r.error})` : ''}`);
  }
  const [load1] = loadavg();
  const machineCpus = cpus().length;
  if (load1 !== undefined && load1 > machineCpus) {
    lines.push(`  note: the machine was busy (load average ${load1.toFixed(1)} on ${machineCpus} CPUs): wall time includes waiting for a CPU; CPU time is the process's own work`);
  }
  return `${lines.join('\n')}\n`;
}
