/**
 * `ansible-playbook --check --diff` of the equivalent lineinfile playbook (Debian's ansible-core),
 * with the same forks, the lab's key and known_hosts (host key checking on), and the floor's
 * OpenSSH config. Its ControlPersist masters outlive each run: they are stopped after it, so that
 * no run reuses the previous run's connections.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loginsSince, markAuthLogs } from './auth-log.js';
import { renderAnsibleConfig, renderAnsibleInventory, renderAnsiblePlaybook } from './fleet-files.js';
import { countBy, perHost, type RunRecord } from './run-record.js';
import { runFiles, type RunContext } from './run-context.js';
import { runTimed, type ProcessCost } from './timed-process.js';

export type AnsibleAvailability = { available: true; version: string } | { available: false; reason: string };

export function findAnsible(): AnsibleAvailability {
  const probe = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { available: false, reason: 'ansible-playbook is not installed (Debian: apt-get install -y ansible-core)' };
  }
  return { available: true, version: probe.stdout.split('\n')[0]?.trim() ?? 'ansible-playbook' };
}

export interface AnsibleFiles {
  dir: string;
  config: string;
  inventory: string;
  playbook: string;
  controlDir: string;
}

export function prepareAnsible(ctx: RunContext, sshConfig: string): AnsibleFiles {
  const dir = join(ctx.workDir, 'ansible');
  const files: AnsibleFiles = {
    dir,
    config: join(dir, 'ansible.cfg'),
    inventory: join(dir, 'inventory.ini'),
    playbook: join(dir, 'sshd.yaml'),
    controlDir: join(dir, 'cp'),
  };
  mkdirSync(files.controlDir, { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(files.config, renderAnsibleConfig({ forks: ctx.forks, connectTimeoutS: ctx.connectTimeoutS, workDir: dir }));
  writeFileSync(files.inventory, renderAnsibleInventory(ctx.lab, sshConfig));
  writeFileSync(files.playbook, renderAnsiblePlaybook());
  return files;
}

/** PLAY RECAP lines: "lab-01 : ok=4 changed=4 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0". */
function parseRecap(output: string): Map<string, Record<string, number>> {
  const recap = new Map<string, Record<string, number>>();
  const start = output.lastIndexOf('PLAY RECAP');
  if (start < 0) return recap;
  for (const line of output.slice(start).split('\n').slice(1)) {
    const match = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    const counts: Record<string, number> = {};
    for (const pair of match[2].trim().split(/\s+/)) {
      const [key, value] = pair.split('=');
      if (key && value !== undefined) counts[key] = Number(value);
    }
    recap.set(match[1], counts);
  }
  return recap;
}

function hostStatus(counts: Record<string, number> | undefined): string {
  if (!counts) return 'not in recap';
  if ((counts['unreachable'] ?? 0) > 0) return 'unreachable';
  if ((counts['failed'] ?? 0) > 0) return 'failed';
  return (counts['changed'] ?? 0) > 0 ? 'changed' : 'ok';
}

/** Stops the ControlPersist masters a run left (they detach from Ansible, so nothing else waits for them). */
export async function stopControlMasters(controlDir: string): Promise<void> {
  let sockets: string[];
  try {
    sockets = readdirSync(controlDir).map((name) => join(controlDir, name));
  } catch {
    return;
  }
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          const child = spawn('ssh', ['-F', '/dev/null', '-o', `ControlPath=${socket}`, '-O', 'exit', 'bench-control-master'], { stdio: 'ignore' });
          child.on('error', () => resolve());
          child.on('close', () => resolve());
        }),
    ),
  );
  // A master that did not answer: its process title names its socket, which is in our directory.
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.startsWith('ssh') && cmdline.includes(controlDir)) {
      try {
        process.kill(Number(entry), 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
  }
}

export async function runAnsible(ctx: RunContext, prepared: AnsibleFiles, label: string): Promise<RunRecord> {
  const files = runFiles(ctx, label);
  const marks = markAuthLogs(ctx.lab.hosts);
  let cost: ProcessCost;
  try {
    cost = await runTimed({
      command: 'ansible-playbook',
      args: ['-i', prepared.inventory, '--check', '--diff', prepared.playbook],
      cwd: prepared.dir,
      env: { ...process.env, ANSIBLE_CONFIG: prepared.config, ANSIBLE_HOME: join(prepared.dir, 'home'), ANSIBLE_NOCOLOR: '1' },
      stdoutFile: files.stdout,
      stderrFile: files.stderr,
      timeFile: files.time,
    });
  } finally {
    await stopControlMasters(prepared.controlDir);
  }
  const logins = loginsSince(ctx.lab.hosts, marks);
  const recap = parseRecap(readFileSync(files.stdout, 'utf8'));
  const statuses = ctx.lab.hosts.map((h) => hostStatus(recap.get(h.name)));
  return {
    contender: 'ansible',
    cost,
    hosts: ctx.lab.hosts.length,
    hostsDone: statuses.filter((s) => s === 'ok' || s === 'changed').length,
    outcome: countBy(statuses, (s) => s),
    logins: perHost(ctx.lab.hosts.map((h) => logins.get(h.name) ?? 0)),
  };
}
