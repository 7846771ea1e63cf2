/**
 * The OpenSSH floor: one `ssh` per host, at most `forks` at a time (xargs -P), each piping
 * sshfix's own fact script to `sh -s` over a fresh connection (ControlMaster=no). It reads what
 * sshfix's first round trip reads, as a naive script would: everything on every host (the build's
 * defaults and algorithm lists too, and a separate `sshd -t`), with the least client machinery
 * there is. The bare login is the same with `true` for a script: the reference for host-side cost.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/lab-fixture.js';
import { FACT_SCRIPT_PRELUDE, factScriptBody, type FactRequest } from '../../src/engine/facts-script.js';
import { loginsSince, markAuthLogs } from './auth-log.js';
import { renderSshConfig } from './fleet-files.js';
import { countBy, perHost, type RunRecord } from './run-record.js';
import { runFiles, type RunContext } from './run-context.js';
import { runTimed } from './timed-process.js';

/** Per host: run the fact script, keep its output and ssh's exit status. */
const PER_HOST = 'ssh -F "$0" "$1" "exec sh -s" <"$2" >"$3/$1.out" 2>"$3/$1.err"; echo $? >"$3/$1.rc"';
/** Per host: log in and run `true`, the least a session can do. */
const PER_HOST_LOGIN = 'ssh -F "$0" "$1" true </dev/null >"$3/$1.out" 2>"$3/$1.err"; echo $? >"$3/$1.rc"';

export const BENCH_FACT_REQUEST: FactRequest = { services: { sshd: ['/etc/ssh/sshd_config'] }, files: [], dirs: [] };

/** The naive fact script: every read on every host (no build cache), and `sshd -t` besides `sshd -T`. */
export function naiveFactScript(): string {
  const body = factScriptBody(BENCH_FACT_REQUEST);
  return [...FACT_SCRIPT_PRELUDE, ...body.slice(0, -1), 'run sshd_test "$sshd_bin" -t', ...body.slice(-1)].join('\n') + '\n';
}

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
  writeFileSync(files.factScript, naiveFactScript());
  writeFileSync(files.hostList, ctx.lab.hosts.map((h) => h.address).join('\n') + '\n');
  return files;
}

export function runFloor(ctx: RunContext, prepared: FloorFiles, label: string): Promise<RunRecord> {
  return runPerHostSsh(ctx, prepared, label, 'floor', PER_HOST);
}

export function runLogin(ctx: RunContext, prepared: FloorFiles, label: string): Promise<RunRecord> {
  return runPerHostSsh(ctx, prepared, label, 'login', PER_HOST_LOGIN);
}

async function runPerHostSsh(ctx: RunContext, prepared: FloorFiles, label: string, contender: 'floor' | 'login', perHostCommand: string): Promise<RunRecord> {
  const files = runFiles(ctx, label);
  const outDir = join(ctx.workDir, `${label}.hosts`);
  mkdirSync(outDir, { recursive: true });
  const marks = markAuthLogs(ctx.lab.hosts);
  const cost = await runTimed({
    command: 'xargs',
    args: ['-P', String(ctx.forks), '-a', prepared.hostList, '-I', '{}', 'sh', '-c', perHostCommand, prepared.sshConfig, '{}', prepared.factScript, outDir],
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
    contender,
    cost,
    hosts: ctx.lab.hosts.length,
    hostsDone: statuses.filter((s) => s === 'read').length,
    outcome: countBy(statuses, (s) => s),
    logins: perHost(ctx.lab.hosts.map((h) => logins.get(h.name) ?? 0)),
  };
}
