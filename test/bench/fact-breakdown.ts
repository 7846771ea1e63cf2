/**
 * Where a host's share of sshfix's cost goes: the fact script's commands, timed one by one on
 * one lab host (wall clock on the host, the best of a few runs, less the cost of the timing
 * itself). sshfix's own script, as the first host of a build and of a shared key runs it (build
 * facts and `sshd -T` included).
 */
import { spawnSync } from 'node:child_process';
import { FACT_SCRIPT_PRELUDE, factScriptBody } from '../../src/engine/facts-script.js';
import { lookupService } from '../../src/services/registry.js';
import { BENCH_FACT_REQUEST } from './floor-contender.js';

export interface CommandTime {
  command: string;
  ms: number;
}

const RUNS = 3;

/** The body's lines, with multi-line constructs (a `{ ... }` group, a function, a `case ... esac`) kept whole. */
export function scriptUnits(body: readonly string[]): string[] {
  const units: string[] = [];
  let open: string[] | undefined;
  for (const line of body) {
    if (open) {
      open.push(line);
      if (/^\}/.test(line) || /^;; esac$/.test(line)) {
        units.push(open.join('\n'));
        open = undefined;
      }
    } else if (line === '{' || /^[a-z_]+\(\) \{$/.test(line) || /^case /.test(line)) {
      open = [line];
    } else if (line !== 'exit 0') {
      units.push(line);
    }
  }
  return units;
}

/**
 * Each unit run in the script's own shell, between two clock readings; unit 0 is an empty one (the
 * timing's own cost). The clock's variables have names the fact script does not use (it sets
 * short ones such as `s` and `e`).
 */
function timedScript(units: readonly string[]): string {
  const timed = [':', ...units].flatMap((unit, i) => [
    `sshfix_bench_start=$(date +%s%N)`,
    `{\n${unit}\n} >/dev/null 2>&1`,
    `sshfix_bench_end=$(date +%s%N)`,
    `echo "T ${i} $(( (sshfix_bench_end - sshfix_bench_start) / 1000 ))" >&2`,
  ]);
  return [...FACT_SCRIPT_PRELUDE, ...timed, 'exit 0'].join('\n') + '\n';
}

/** Times the fact script's commands on `address` (through the floor's ssh config). */
export function factScriptBreakdown(sshConfig: string, address: string): CommandTime[] | string {
  // What a plan's host runs: the script with the shared lines deferred, then those lines (run by the first host of each key).
  const shared = Object.keys(BENCH_FACT_REQUEST.services).flatMap((id) => lookupService(id)?.shared?.lines ?? []);
  const units = scriptUnits([...factScriptBody(BENCH_FACT_REQUEST, {}, 'deferred'), ...shared]);
  const script = timedScript(units);
  const best = new Array<number>(units.length + 1).fill(Number.POSITIVE_INFINITY);
  for (let run = 0; run < RUNS; run++) {
    const result = spawnSync('ssh', ['-F', sshConfig, address, 'exec sh -s'], { input: script, encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) return `ssh exited ${result.status}: ${result.stderr.trim().split('\n').slice(-2).join(' ')}`;
    for (const match of result.stderr.matchAll(/^T (\d+) (\d+)$/gm)) {
      const i = Number(match[1]);
      best[i] = Math.min(best[i] as number, Number(match[2]) / 1000);
    }
  }
  const overhead = best[0] as number;
  return units.map((command, i) => ({ command: command.replace(/\s*\n\s*/g, ' '), ms: Math.max(0, (best[i + 1] as number) - overhead) }));
}

export function renderBreakdown(times: CommandTime[] | string, address: string): string {
  if (typeof times === 'string') return `fact script breakdown on ${address}: NOT MEASURED: ${times}\n`;
  const total = times.reduce((sum, t) => sum + t.ms, 0);
  const shown = (command: string): string => (command.length > 90 ? `${command.slice(0, 87)}...` : command);
  const lines = [`fact script breakdown on ${address} (wall ms on the host, best of ${RUNS}, a build's first host; total ${total.toFixed(1)} ms):`];
  for (const t of [...times].sort((a, b) => b.ms - a.ms)) lines.push(`  ${t.ms.toFixed(1).padStart(6)}  ${shown(t.command)}`);
  return lines.join('\n') + '\n';
}
