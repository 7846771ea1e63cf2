/**
 * sshd's fragments of the apply transaction: validate the whole tree it will load (`sshd -t -f`
 * each touched main config, `-T -C` each Match connection), reload it the host's way (never a
 * restart), check it still runs, and start it again from its previous command line or service.
 * Pure: builds shell text from typed values, every value quoted.
 */
import { quoteShellArg } from '../../util/shell-quote.js';
import type { ServiceScripts } from '../service.js';
import type { ReloadMethod } from './facts.js';

const q = quoteShellArg;

/** The command that reloads sshd, per method. Never a restart. */
export function reloadCommand(method: ReloadMethod): string {
  switch (method.kind) {
    case 'systemctl':
      return `systemctl reload ${q(method.unit)}`;
    case 'rc-service':
      return `rc-service ${q(method.service)} reload`;
    case 'signal':
      // Only signal a pid that really is sshd: a stale PidFile must not HUP an unrelated process.
      return `sshd_pid >/dev/null && kill -HUP "$(sshd_pid)"`;
    case 'unknown':
      return `echo ${q(`no way to reload sshd: ${method.reason}`)} >&2; false`;
  }
}

export function describeReload(method: ReloadMethod): string {
  switch (method.kind) {
    case 'systemctl':
      return `systemctl reload ${method.unit}`;
    case 'rc-service':
      return `rc-service ${method.service} reload`;
    case 'signal':
      return `kill -HUP $(cat ${method.pidFile})`;
    case 'unknown':
      return `none (${method.reason})`;
  }
}

/** Validation of the whole tree sshd will load, for each touched main config. */
function validateLines(configs: readonly string[], matchSpecs: readonly string[]): string[] {
  const lines: string[] = [];
  for (const config of configs) {
    lines.push(`out=$("$sshd_bin" -t -f ${q(config)} 2>&1) || { printf %s "$out"; return 1; }`);
    // -C needs test mode -T; the dump itself is not needed here.
    for (const spec of matchSpecs) lines.push(`out=$("$sshd_bin" -T -f ${q(config)} -C ${q(spec)} 2>&1 >/dev/null) || { printf '%s (for the connection %s)' "$out" ${q(spec)}; return 1; }`);
  }
  return lines;
}

export interface SshdScriptInput {
  /** Main sshd config files the change touches (each validated with `sshd -t -f`). */
  configs: readonly string[];
  /** `sshd -T -C` connection specs to validate besides the plain `sshd -t`. */
  matchSpecs: readonly string[];
  reload: ReloadMethod;
}

/** The transaction's fragments for sshd. */
export function sshdScripts(input: SshdScriptInput): ServiceScripts {
  const method = input.reload;
  const pidFile = method.kind === 'signal' ? method.pidFile : '/run/sshd.pid';
  const helpers = [
    'sshd_bin=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)',
    // The pid of the listening sshd, when the PidFile names a live process called sshd.
    // (A zombie is dead too: it only waits for its parent to reap it.)
    `sshd_pid() { p=$(cat ${q(pidFile)} 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && case "$(sed 's/^.*) //' /proc/$p/stat 2>/dev/null)" in Z*) false;; *) true;; esac && case "$(cat /proc/$p/comm 2>/dev/null || ps -o comm= -p "$p" 2>/dev/null)" in sshd*) echo "$p";; *) false;; esac; }`,
  ];
  let alive: string;
  let start: string;
  switch (method.kind) {
    case 'systemctl':
      alive = `systemctl is-active --quiet ${q(method.unit)}`;
      start = `systemctl start ${q(method.unit)}`;
      break;
    case 'rc-service':
      alive = `rc-service ${q(method.service)} status >/dev/null 2>&1`;
      start = `rc-service ${q(method.service)} start`;
      break;
    case 'signal':
      alive = 'sshd_pid >/dev/null';
      // From the command line recorded before the reload: sshd's process title
      // ("sshd: /usr/sbin/sshd -D [listener] ...") or its plain argv.
      start =
        '[ -s "$B/sshd.cmdline" ] || return 1; line=$(sed -e "s/^sshd: //" -e "s/ \\[listener\\].*$//" "$B/sshd.cmdline"); ' +
        'if command -v setsid >/dev/null 2>&1; then setsid sh -c "exec $line" </dev/null >/dev/null 2>&1 9>&- & else nohup sh -c "exec $line" </dev/null >/dev/null 2>&1 9>&- & fi';
      break;
    case 'unknown':
      alive = 'true';
      start = 'false';
      break;
  }
  return {
    id: 'sshd',
    label: 'sshd',
    helpers,
    validate: validateLines(input.configs, input.matchSpecs),
    validateRestored: validateLines(input.configs, []),
    reload: reloadCommand(method),
    alive,
    start,
    beforeReload: method.kind === 'signal' ? ['p=$(sshd_pid) && tr "\\0" " " < "/proc/$p/cmdline" > "$B/sshd.cmdline"'] : [],
    reloadDescription: describeReload(method),
  };
}
