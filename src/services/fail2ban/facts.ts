/**
 * What fail2ban needs to know about a host, read in the one fact round trip: whether
 * fail2ban-client is installed, whether the server answers `ping`, its jails with each one's
 * banned list and ignoreip, whether the live config loads (`fail2ban-client -d` plus the values
 * the server evaluates), and the layered files themselves (their hashes come with every file
 * read). fail2ban-client finds the server's socket in fail2ban.conf/fail2ban.local itself. Pure.
 */
import { buildFail2banLayers, FAIL2BAN_BASE_DIR } from '../../config/fail2ban/layers.js';
import type { FileSnapshot } from '../../config/openssh/snapshot-glob.js';
import type { Diagnostic } from '../../util/diagnostics.js';
import { decodeText } from '../../util/text-encoding.js';
import type { BaseFacts, InitSystem, RawFacts } from '../service.js';
import { fail2banLoadProblem } from './loadable.js';

export interface Fail2banJailState {
  name: string;
  /** Addresses banned now, as fail2ban prints them. */
  banned: string[];
  /** `get JAIL ignoreip`, one entry each, as fail2ban prints them (masked networks, no /32). */
  ignoreip: string[];
}

export interface Fail2banFacts {
  installed: boolean;
  /** `fail2ban-client ping` answered. */
  running: boolean;
  /** Running jails, in the server's order. */
  jails: Fail2banJailState[];
  /** `fail2ban-client -d` of the live config: its error lines when it fails. */
  configCheck: { ok: boolean; output: string };
  /** A value the server would refuse in the live config (the next reload would drop every jail). */
  liveProblem?: Diagnostic;
  init: InitSystem;
}

const BASE = FAIL2BAN_BASE_DIR;
/** fail2ban's error lines, without the generic one that follows every failure. */
const ERROR_LINES = "grep -E 'ERROR' | grep -v 'Init of command line failed' | sed 's/^.*ERROR[[:space:]]*//' | tail -n 3";

/** The fact script's lines for fail2ban. */
export function fail2banFactLines(): string[] {
  const readDir = (dir: string): string => `ld ${dir}; for m in ${dir}/*.conf ${dir}/*.local; do [ -f "$m" ] && rf "$m"; done`;
  return [
    'run fail2ban_client sh -c "command -v fail2ban-client"',
    readDir(BASE),
    readDir(`${BASE}/jail.d`),
    readDir(`${BASE}/fail2ban.d`),
    // Recorded as missing when absent: a plan that creates it then insists it still does not exist.
    `[ -e ${BASE}/jail.local ] || rf ${BASE}/jail.local`,
    `f2b_check() { out=$(fail2ban-client -d 2>&1 >/dev/null); rc=$?; printf '%s\\n' "$out" | ${ERROR_LINES}; return $rc; }`,
    'f2b_state() {',
    '  fail2ban-client ping >/dev/null 2>&1 || { echo stopped; return 0; }',
    '  s=$(fail2ban-client status 2>&1) || { printf "%s\\n" "$s"; return 1; }',
    '  l=$(printf "%s\\n" "$s" | sed -n "s/.*Jail list:[[:space:]]*//p" | tr "," " ")',
    '  echo "jails $l"',
    '  for j in $l; do',
    `    printf "banned %s %s\\n" "$j" "$(fail2ban-client get "$j" banned 2>/dev/null | tr -d "[]',")"`,
    '    fail2ban-client get "$j" ignoreip 2>/dev/null | sed -n "s/^[|\\`]- /ignoreip $j /p"',
    '  done',
    '}',
    'if command -v fail2ban-client >/dev/null 2>&1; then run fail2ban_check f2b_check; run fail2ban_state f2b_state; fi',
  ];
}

/** The jail files as a snapshot (what the config engine reads). */
export function fail2banSnapshot(base: Pick<BaseFacts, 'files' | 'dirs' | 'missing'>): FileSnapshot {
  const files = new Map<string, string>();
  for (const [path, file] of base.files) if (path.startsWith(`${BASE}/`)) files.set(path, decodeText(file.content).text);
  return { files, listedDirs: new Set([...base.dirs.keys(), ...base.missing]), entries: base.dirs };
}

export function readFail2banFacts(raw: RawFacts, base: BaseFacts): Fail2banFacts {
  const client = raw.commands.get('fail2ban_client');
  const installed = client?.exitCode === 0 && client.stdout.trim() !== '';
  const check = raw.commands.get('fail2ban_check');
  const state = raw.commands.get('fail2ban_state');
  const jails: Fail2banJailState[] = [];
  let running = false;
  if (installed && state?.exitCode === 0 && state.stdout.trim() !== 'stopped') {
    running = true;
    for (const line of state.stdout.split('\n')) {
      const [kind, ...rest] = line.trim().split(/\s+/);
      if (kind === 'jails') for (const name of rest) if (name) jails.push({ name, banned: [], ignoreip: [] });
      const jail = jails.find((j) => j.name === rest[0]);
      if (!jail) continue;
      if (kind === 'banned') jail.banned.push(...rest.slice(1).filter((w) => w !== ''));
      if (kind === 'ignoreip' && rest[1]) jail.ignoreip.push(rest[1]);
    }
  }
  const facts: Fail2banFacts = {
    installed,
    running,
    jails,
    configCheck: { ok: !installed || check?.exitCode === 0, output: (check?.stdout ?? '').trim() },
    init: base.init,
  };
  if (installed) {
    const problem = fail2banLoadProblem(buildFail2banLayers(fail2banSnapshot(base)).layers);
    if (problem) facts.liveProblem = problem;
  }
  return facts;
}

/** Directories the jail files would need listed that the first round trip did not list. */
export function unlistedFail2banDirs(snapshot: FileSnapshot): string[] {
  const sub: FileSnapshot = { ...snapshot, files: new Map([...snapshot.files].filter(([p]) => p.startsWith(`${BASE}/`))) };
  return buildFail2banLayers(sub).unresolved;
}
