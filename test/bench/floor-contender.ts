/**
 * The OpenSSH floor: one `ssh` per host, at most `forks` at a time (xargs -P), each piping
 * sshfix's own fact script to `sh -s` over a fresh connection (ControlMaster=no). It does the
 * reads sshfix's first round trip does and nothing else, with the least client machinery there is.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/lab-fixture.js';
import { buildFactScript } from '../../src/engine/facts-script.js';
import { loginsSince, markAuthLogs } from './auth-log.js';
import { renderSshConfig } from './fleet-files.js';
import { countBy, perHost, type RunRecord } from './run-record.js';
import { runFiles, type RunContext } from './run-context.js';
import { runTimed } from './timed-process.js';

/** Per host: run the fact script, keep its output and ssh's exit status. */
const PER_HOST = 'ssh -F "$0" "$1" "exec sh -s" <"$2" >"$3/$1.out" 2>"$3/$1.err"; echo $? >"$3/$1.rc"';

export interface FloorFiles {
  sshConfig: string;
  factScript: string;
  hostList: string;
}

/** Writes the ssh config, the fact script and the host list; the ssh config is Ansible's too. */
export function prepareFloor(ctx: RunContext): FloorFiles {
  const files: FloorFiles = {
    sshConfig: join(ctx.workDir, 'ssh_config'),
    factScript: join(ctx.workDir, 'facts.sh'),
    hostList: join(ctx.workDir, 'hosts.txt'),
  };
  writeFileSync(files.sshConfig, renderSshConfig(ctx.lab, { connectTimeoutS: ctx.connectTimeoutS }));
  writeFileSync(files.factScript, buildFactScript({ services: { sshd: ['/etc/ssh/sshd_config'] }, files: [], dirs: [] }));
  writeFileSync(files.hostList, ctx.lab.hosts.map((h) => h.address).join('\n') + '\n');
  return files;
}

export async function runFloor(ctx: RunContext, prepared: FloorFiles, label: string): Promise<RunRecord> {
  const files = runFiles(ctx, label);
  const outDir = join(ctx.workDir, `${label}.hosts`);
  mkdirSync(outDir, { recursive: true });
  const marks = markAuthLogs(ctx.lab.hosts);
  const cost = await runTimed({
    command: 'xargs',
    args: ['-P', String(ctx.forks), '-a', prepared.hostList, '-I', '{}', 'sh', '-c', PER_HOST, prepared.sshConfig, '{}', prepared.factScript, outDir],
    cwd: REPO_ROOT,
    stdoutFile: files.stdout,
    stderrFile: files.stderr,
    timeFile: files.time,
  });
  const logins = loginsSince(ctx.lab.hosts, marks);
  const exitCodes = new Map(
    readdirSync(outDir)
      .filter((f) => f.endsWith('.rc'))
      .map((f) => [f.slice(0, -3), readFileSync(join(outDir, f), 'utf8').trim()]),
  );
  const statusOf = (address: string): string => {
    const rc = exitCodes.get(address);
    return rc === undefined ? 'not run' : rc === '0' ? 'read' : `ssh exit ${rc}`;
  };
  const statuses = ctx.lab.hosts.map((h) => statusOf(h.address));
  return {
    contender: 'floor',
    cost,
    hosts: ctx.lab.hosts.length,
    hostsDone: statuses.filter((s) => s === 'read').length,
    outcome: countBy(statuses, (s) => s),
    logins: perHost(ctx.lab.hosts.map((h) => logins.get(h.name) ?? 0)),
  };
}
