/**
 * The one shell script diagnose runs on a host it can log in to, and the reading of its output
 * into HostEvidence. Pure: building and interpreting do no I/O; run-diagnose.ts runs the script.
 *
 * The script prints the same records as the fact script (`R <name> <exit> <stdout b64> <stderr b64>`)
 * so its output is read by parseFactOutput. It reads, for one client address and account: sshd's
 * effective config for that connection (`sshd -T -C`), the account's groups, whether sshd links
 * libwrap, hosts.allow and hosts.deny, fail2ban's jails and bans, sshguard's blocks for its
 * backend, and the sshd and fail2ban logs of the last `since`.
 */
import { parseHostsAccess } from '../config/hosts-access/parse.js';
import { evaluateHostsAccess } from '../config/hosts-access/evaluate.js';
import { findSshguardBlock, insideSshguardBlock, sshguardBlockedAddresses } from '../config/hosts-access/sshguard.js';
import { sshguardBackendOf } from '../config/sshguard/firewall.js';
import { libwrapProbeLine, readLibwrapProbe, RECORD_SCRIPT_PRELUDE } from '../util/record-script.js';
import { quoteShellArg } from '../util/shell-quote.js';
import type { HostEvidence, WrappersDecision } from './classify.js';
import { readLogLines, splitLogText, type LogLine } from './log-lines.js';

const q = quoteShellArg;

export interface EvidenceRequest {
  client: string;
  user: string;
  /** The host's own address and port as the client connects to it (`laddr`, `lport` of `sshd -T -C`). */
  localAddress: string;
  localPort: number;
  /** Start of the log window, seconds since the epoch (for journalctl). */
  sinceEpochS: number;
}

/** How many of the newest lines of a log file are read: enough for a day of a busy host's sshd. */
export const LOG_TAIL_LINES = 50_000;

/** Builds the evidence script. Values are validated by the caller; every one is quoted here. */
export function buildEvidenceScript(request: EvidenceRequest): string {
  const spec = `user=${request.user},host=${request.client},addr=${request.client},laddr=${request.localAddress},lport=${request.localPort}`;
  const lines = [
    ...RECORD_SCRIPT_PRELUDE,
    'sshd_bin=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)',
    'run id id -u',
    'run sshd_version "$sshd_bin" -V',
    `run sshd_client "$sshd_bin" -T -C ${q(spec)}`,
    `run groups id -Gn ${q(request.user)}`,
    libwrapProbeLine('libwrap', 'sshd_bin'),
    'run hosts_allow cat /etc/hosts.allow',
    'run hosts_deny cat /etc/hosts.deny',
    // fail2ban: every jail's status, one after the other, behind a separator line.
    'if command -v fail2ban-client >/dev/null 2>&1; then',
    '  run fail2ban_ping fail2ban-client ping',
    '  run fail2ban sh -c \'fail2ban-client status || exit 1; for j in $(fail2ban-client status | sed -n "s/.*Jail list:[[:space:]]*//p" | tr -d ","); do echo "==== $j"; fail2ban-client status "$j"; done\'',
    'fi',
    // sshguard: running or not, its config, and the blocks of every backend it may use.
    'if command -v sshguard >/dev/null 2>&1 || [ -e /etc/sshguard/sshguard.conf ]; then',
    '  run sshguard_running sh -c \'pgrep -x sshguard >/dev/null && echo yes || echo no\'',
    '  run sshguard_conf cat /etc/sshguard/sshguard.conf',
    '  command -v nft >/dev/null 2>&1 && { run sshguard_nft4 nft list set ip sshguard attackers; run sshguard_nft6 nft list set ip6 sshguard attackers; }',
    '  command -v iptables >/dev/null 2>&1 && run sshguard_iptables iptables -S sshguard',
    '  command -v ipset >/dev/null 2>&1 && run sshguard_ipset sh -c \'ipset list sshguard4 2>/dev/null; ipset list sshguard6 2>/dev/null\'',
    'fi',
    // Logs: the file a syslog daemon writes, else the journal; line numbers from the file's start.
    `for f in /var/log/auth.log /var/log/secure; do if [ -r "$f" ]; then run "logstart" sh -c 'n=$(wc -l < "$0"); [ "$n" -gt ${LOG_TAIL_LINES} ] && echo $((n - ${LOG_TAIL_LINES})) || echo 0' "$f"; run "logfile" printf %s "$f"; run log tail -n ${LOG_TAIL_LINES} "$f"; break; fi; done`,
    `if [ ! -r /var/log/auth.log ] && [ ! -r /var/log/secure ] && command -v journalctl >/dev/null 2>&1; then run journal journalctl -q --no-pager -o short-iso --since @${Math.floor(request.sinceEpochS)} _COMM=sshd + _COMM=sshd-session + _COMM=sshd-auth; fi`,
    `[ -r /var/log/fail2ban.log ] && run fail2ban_log tail -n ${LOG_TAIL_LINES} /var/log/fail2ban.log`,
    'exit 0',
  ];
  return lines.join('\n') + '\n';
}

/** A command's result as the script recorded it (parseFactOutput's shape). */
export interface RecordedResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The banned addresses of each jail, from `fail2ban-client status` and each jail's status. */
export function parseFail2banStatus(text: string): { name: string; banned: string[] }[] {
  const jails: { name: string; banned: string[] }[] = [];
  for (const block of text.split(/^==== /m).slice(1)) {
    const name = block.split('\n')[0]?.trim() ?? '';
    const list = /Banned IP list:[ \t]*(.*)$/m.exec(block)?.[1] ?? '';
    jails.push({ name, banned: list.split(/\s+/).filter(Boolean) });
  }
  return jails;
}

/** Addresses in an nft set listing (`elements = { 192.0.2.7, 198.51.100.0/24 }`), ipset or iptables rules. */
export function parseSshguardBlocks(outputs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const text of outputs) {
    const elements = /elements\s*=\s*\{([^}]*)\}/s.exec(text)?.[1];
    if (elements) for (const e of elements.split(',')) if (e.trim()) out.add(e.trim().split(/\s/)[0] as string);
    for (const m of text.matchAll(/^-A sshguard -s (\S+)/gm)) out.add((m[1] as string).replace(/\/32$/, ''));
    const members = /Members:\n([\s\S]*)$/m.exec(text)?.[1];
    if (members) for (const line of members.split('\n')) if (/^[0-9a-f.:/]+/i.test(line.trim())) out.add(line.trim().split(/\s/)[0] as string);
  }
  return [...out];
}

/** The value of `KEY=...` in sshguard.conf (shell syntax, quotes stripped). */
function confValue(conf: string, key: string): string | undefined {
  const m = new RegExp(`^\\s*${key}=(.*)$`, 'm').exec(conf);
  return m?.[1]?.trim().replace(/^(["'])(.*)\1$/, '$2');
}

export interface InterpretEvidenceOptions {
  client: string;
  /** Start of the window for log lines (ms since the epoch). */
  since: number;
  now: number;
}

/** Turns the evidence script's records into what the classifier reads. */
export function interpretEvidence(commands: ReadonlyMap<string, RecordedResult>, options: InterpretEvidenceOptions): HostEvidence {
  const out = (name: string): string | undefined => {
    const c = commands.get(name);
    return c && c.exitCode === 0 ? c.stdout : undefined;
  };
  const logSources: string[] = [];
  const evidence: HostEvidence = { log: [], logSources };
  const version = /OpenSSH_([0-9]+\.[0-9]+(?:p[0-9]+)?)/.exec(commands.get('sshd_version')?.stderr ?? '')?.[1];
  if (version) evidence.opensshVersion = version;
  const dump = out('sshd_client');
  if (dump !== undefined) {
    const map = new Map<string, string[]>();
    for (const line of dump.split('\n')) {
      const space = line.indexOf(' ');
      if (space <= 0) continue;
      const key = line.slice(0, space).toLowerCase();
      map.set(key, [...(map.get(key) ?? []), line.slice(space + 1)]);
    }
    evidence.sshd = map;
  }
  const groups = out('groups');
  if (groups !== undefined) evidence.groups = groups.trim().split(/\s+/).filter(Boolean);

  const libwrap = readLibwrapProbe(out('libwrap')).binaries.length > 0;
  const allowText = out('hosts_allow') ?? '';
  const denyText = out('hosts_deny') ?? '';
  const allow = parseHostsAccess(allowText, '/etc/hosts.allow');
  const deny = parseHostsAccess(denyText, '/etc/hosts.deny');
  const decision = evaluateHostsAccess({ allow, deny }, { daemon: 'sshd', clientAddress: options.client, clientName: options.client });
  const wrappers: WrappersDecision = { granted: decision.access !== 'denied' };
  if (decision.decidedBy) {
    wrappers.source = decision.decidedBy.path;
    wrappers.line = decision.decidedBy.line;
    wrappers.text = decision.decidedBy.text.trim();
    if (decision.decidedBy.table === 'allow') {
      const index = allow.entries.indexOf(decision.decidedBy.entry);
      if (insideSshguardBlock(findSshguardBlock(allow), index)) wrappers.sshguardBlock = true;
    }
  }
  evidence.wrappers = { libwrap, decision: wrappers };

  if (commands.has('fail2ban_ping')) {
    const running = commands.get('fail2ban_ping')?.exitCode === 0;
    evidence.fail2ban = { running, jails: running ? parseFail2banStatus(out('fail2ban') ?? '') : [] };
  }
  if (commands.has('sshguard_running')) {
    const conf = out('sshguard_conf') ?? '';
    const backendPath = confValue(conf, 'BACKEND') ?? '';
    // Named as the sshguard task names it (nft-sets, ipset, iptables, hosts); another program by its path.
    const known = sshguardBackendOf(backendPath);
    const backend = known !== 'other' ? known : backendPath || 'unknown';
    const blocked =
      backend === 'hosts'
        ? sshguardBlockedAddresses(allowText)
        : parseSshguardBlocks(['sshguard_nft4', 'sshguard_nft6', 'sshguard_iptables', 'sshguard_ipset'].map((n) => out(n) ?? ''));
    evidence.sshguard = {
      running: (out('sshguard_running') ?? '').trim() === 'yes',
      backend,
      blocked,
      source: backend === 'hosts' ? '/etc/hosts.allow (sshguard block)' : `${backend} set of sshguard`,
    };
  }

  const lines: LogLine[] = [];
  const logFile = out('logfile');
  const logText = out('log');
  if (logFile !== undefined && logText !== undefined) {
    const offset = Number((out('logstart') ?? '0').trim()) || 0;
    lines.push(...splitLogText(logFile, logText).map((l) => ({ ...l, line: l.line + offset })));
    logSources.push(logFile);
  } else if (out('journal') !== undefined) {
    lines.push(...splitLogText('journal', out('journal') as string));
    logSources.push('the journal');
  }
  const f2bLog = out('fail2ban_log');
  if (f2bLog !== undefined) {
    lines.push(...splitLogText('/var/log/fail2ban.log', f2bLog));
    logSources.push('/var/log/fail2ban.log');
  }
  evidence.log = readLogLines(lines, { now: options.now, since: options.since });
  return evidence;
}
