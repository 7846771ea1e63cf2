/**
 * fail2ban's fragments of the apply transaction and of the plan-time candidate check. Pure: shell
 * text from typed values, every value quoted.
 *
 * The reload never counts as failed by its exit code alone: `fail2ban-client reload` of a config
 * with one bad value exits 255 with the server still answering `ping` but running no jail, so the
 * commit's own undo (which does not reload) would leave the host unprotected. The reload's output
 * is kept instead, and the check after it proves every jail that ran before still runs and each
 * jail lists the new ignoreip entries; when not, the transaction restores the files and reloads
 * again.
 */
import { FAIL2BAN_BASE_DIR } from '../../config/fail2ban/layers.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import { writeCandidateFile } from '../candidate-files.js';
import type { ServiceScripts } from '../service.js';
import type { Fail2banFacts } from './facts.js';

const q = quoteShellArg;

/** Jail names fail2ban accepts as section names that are also safe as words in a script. */
export const isJailName = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v);
/** An address or network as fail2ban prints it, or a host name. */
export const isIgnoreEntry = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_.:/-]{1,255}$/.test(v);

/** What the transaction needs from the plan. */
export interface Fail2banScriptPlan {
  /** Jails that must still run after the reload. */
  jails: readonly string[];
  /** Entries `get JAIL ignoreip` must list after the reload (as fail2ban prints them). */
  ignore: readonly { jail: string; entries: readonly string[] }[];
  /** Addresses to unban once the new config is live. */
  unban: readonly { jail: string; addresses: readonly string[] }[];
}

/** fail2ban's error lines, without the generic one that follows every failure. */
const ERRORS = "grep -E 'ERROR' | grep -v 'Init of command line failed' | sed 's/^.*ERROR[[:space:]]*//' | tail -n 2";

export function fail2banScripts(facts: Fail2banFacts, plan: Fail2banScriptPlan): ServiceScripts {
  const validate = [`out=$(fail2ban-client -d 2>&1 >/dev/null) || { printf '%s\\n' "$out" | ${ERRORS}; return 1; }`];
  const check = [
    'now=" $(fail2ban_jails) "',
    'lost=',
    ...plan.jails.map((j) => `case "$now" in *${q(` ${j} `)}*) ;; *) lost="$lost ${j}";; esac`),
    `[ -z "$lost" ] || { printf 'jails no longer running after the reload:%s (fail2ban-client reload said: %s)' "$lost" "$(tail -n 2 "$B/fail2ban.reload" 2>/dev/null | tr '\\n' ' ')"; return 1; }`,
    ...plan.ignore.flatMap(({ jail, entries }) => [
      `ig=$(fail2ban-client get ${q(jail)} ignoreip 2>&1 | sed 's/^[|\`]- //')`,
      ...entries.map((e) => `printf '%s\\n' "$ig" | grep -qxF -- ${q(e)} || { printf '%s' ${q(`fail2ban-client get ${jail} ignoreip does not list ${e} after the reload`)}; return 1; }`),
    ]),
  ];
  const afterReload = plan.unban.flatMap(({ jail, addresses }) =>
    addresses.map(
      (a) =>
        `fail2ban-client set ${q(jail)} unbanip ${q(a)} >/dev/null 2>&1; if fail2ban-client get ${q(jail)} banned 2>/dev/null | grep -qF -- ${q(`'${a}'`)}; then step unban fail ${q(`${a} is still banned in jail ${jail}`)}; else step unban ok ${q(`${a} in jail ${jail}`)}; fi`,
    ),
  );
  return {
    id: 'fail2ban',
    label: 'fail2ban',
    helpers: [`fail2ban_jails() { fail2ban-client status 2>/dev/null | sed -n 's/.*Jail list:[[:space:]]*//p' | tr ',' ' '; }`],
    validate,
    validateRestored: validate,
    reload: 'fail2ban-client reload > "$B/fail2ban.reload" 2>&1; :',
    alive: 'fail2ban-client ping >/dev/null 2>&1',
    start: facts.init === 'systemd' ? 'systemctl start fail2ban' : 'fail2ban-client start >/dev/null 2>&1',
    beforeReload: [],
    reloadDescription: 'fail2ban-client reload',
    check,
    afterReload,
  };
}

/**
 * The plan-time check: a copy of /etc/fail2ban with the planned files laid over it, read by
 * `fail2ban-client -c COPY -d` exactly as the server's client will read the real one. Exit 0, or
 * fail2ban's error on stdout with the copy's path put back to /etc/fail2ban.
 */
export function fail2banCandidateScript(files: ReadonlyMap<string, string>): string {
  const base = FAIL2BAN_BASE_DIR;
  const overlay = [...files].filter(([path]) => path.startsWith(`${base}/`)).map(([path, text]) => [path.slice(base.length), text] as const);
  const dirs = new Set(overlay.map(([rel]) => rel.slice(0, rel.lastIndexOf('/'))).filter((dir) => dir !== ''));
  const lines = [
    'd=$sshfix_scratch',
    `mkdir -p "$d" ${[...dirs].map((dir) => `"$d"${q(dir)}`).join(' ')} || { echo "cannot make a scratch copy of ${base}"; exit 70; }`,
    `cp -a ${base}/. "$d/" || { echo "cannot copy ${base}"; exit 70; }`,
    ...overlay.flatMap(([rel, text], index) => writeCandidateFile(`"$d"${q(rel)}`, text, `SSHFIX_F2B_${index}_EOF`)),
  ];
  lines.push(`out=$(fail2ban-client -c "$d" -d 2>&1 >/dev/null) || { printf '%s\\n' "$out" | ${ERRORS} | sed "s#$d#${base}#g"; exit 1; }`, 'exit 0');
  return lines.join('\n') + '\n';
}
