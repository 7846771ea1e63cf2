/**
 * Which cause makes a host drop a client: a pure function over what the probe saw from the runner
 * and what the host's own state and logs say (gathered elsewhere). No I/O, no clock: the caller
 * passes the log lines already read and filtered by `--since`.
 */
import { addressListMatches } from '../config/sshd/match.js';
import { accessDecision, type AccessLists } from './access.js';
import type { AccessList, AlgorithmKind, LogEvent, LogRecord } from './log-lines.js';

/** The cause codes of the diagnose contract. */
export type CauseCode =
  | 'fail2ban-ban'
  | 'sshguard-block'
  | 'tcp-wrappers'
  | 'maxstartups'
  | 'per-source-penalty'
  | 'allow-users'
  | 'deny-users'
  | 'allow-groups'
  | 'deny-groups'
  | 'kex-mismatch'
  | 'cipher-mismatch'
  | 'mac-mismatch'
  | 'hostkey-mismatch'
  | 'channel-timeout'
  | 'unused-connection-timeout'
  | 'client-alive'
  | 'network-idle';

/** The stage a probe from the runner got to: the first that failed, or `ok`. */
export type ProbeStage = 'tcp' | 'banner' | 'kex' | 'auth' | 'session' | 'ok';

export interface ProbeResult {
  stage: ProbeStage;
  message: string;
  /** Text the server sent instead of its banner (`Exceeded MaxStartups`, `Not allowed at this time`). */
  preBanner?: string;
  /** Accepted, then closed or reset with no banner, after this many milliseconds. */
  closedBeforeBannerMs?: number;
  /** A failed key exchange: the family and both sides' lists. */
  negotiation?: { algorithm: AlgorithmKind; client: readonly string[]; server: readonly string[] };
}

export interface EvidenceItem {
  source: string;
  line?: number;
  text: string;
  /** ISO time of a log line, when known. */
  time?: string;
}

export interface CauseFix {
  playbook?: string;
  command?: string;
  /** What to do by hand when no shipped playbook fixes it (yet). */
  note?: string;
}

export interface Cause {
  code: CauseCode;
  summary: string;
  /** Causes that fed this one (an AllowUsers refusal repeated until fail2ban banned the address). */
  chain: CauseCode[];
  evidence: EvidenceItem[];
  fix: CauseFix;
}

/** The deciding hosts_access line, when wrappers deny the client. */
export interface WrappersDecision {
  granted: boolean;
  source?: string;
  line?: number;
  text?: string;
  /** Inside sshguard's `###sshguard###` block of hosts.allow. */
  sshguardBlock?: boolean;
}

/** What was read on the host. A part left undefined was not available (not installed, not readable). */
export interface HostEvidence {
  opensshVersion?: string;
  fail2ban?: { running: boolean; jails: readonly { name: string; banned: readonly string[] }[] };
  sshguard?: { running: boolean; backend: string; blocked: readonly string[]; source: string };
  wrappers?: { libwrap: boolean; decision?: WrappersDecision };
  /** `sshd -T -C user=U,addr=A,host=H` for the client, keyword -> values. */
  sshd?: ReadonlyMap<string, readonly string[]>;
  /** The account's groups on the host (`id -Gn`), when it exists. */
  groups?: readonly string[];
  /** Log lines about the causes, already limited to `--since`. */
  log: readonly LogRecord[];
  /** Which logs were read (`/var/log/auth.log`, `journal`), for "ruled out" wording. */
  logSources: readonly string[];
}

export interface IdleProbeResult {
  /** How long the quiet session was to be held. */
  heldMs: number;
  /** When the server (or the path) closed it, if it did. */
  closedAfterMs?: number;
}

export interface DiagnoseInput {
  host: { name: string; address: string };
  client: string;
  user: string;
  symptom: 'connect' | 'idle';
  probe: ProbeResult;
  /** Undefined when the runner could not log in to read it. */
  evidence?: HostEvidence;
  idleProbe?: IdleProbeResult;
  /** How the fix command starts, e.g. `sshfix apply -i fleet.yaml`. */
  applyCommand: string;
  /** Shipped playbooks (paths as the user would type them): a fix names one only when it is shipped. */
  playbooks: ReadonlySet<string>;
}

export interface Diagnosis {
  causes: Cause[];
  /** What was looked at and found not to be the cause. */
  ruledOut: string[];
  /** When the runner could not get in: how to reach the host another way. */
  reach: string[];
}

const ALGORITHM_CAUSE: Record<AlgorithmKind, CauseCode> = { kex: 'kex-mismatch', cipher: 'cipher-mismatch', mac: 'mac-mismatch', hostkey: 'hostkey-mismatch' };
const ALGORITHM_KEYWORD: Record<AlgorithmKind, string> = { kex: 'KexAlgorithms', cipher: 'Ciphers', mac: 'MACs', hostkey: 'HostKeyAlgorithms' };
const ACCESS_CAUSE: Record<AccessList, CauseCode> = { AllowUsers: 'allow-users', DenyUsers: 'deny-users', AllowGroups: 'allow-groups', DenyGroups: 'deny-groups' };

/** True when `address` is the client or lies in the client-side entry (an address or CIDR the log or a ban list wrote). */
export function sameClient(client: string, entry: string): boolean {
  const bare = entry.replace(/^\[|\]$/g, '');
  if (bare === client) return true;
  return addressListMatches(client, bare) === 1;
}

const recordEvidence = (r: LogRecord): EvidenceItem => ({ source: r.source, line: r.line, text: r.text, ...(r.time !== undefined ? { time: new Date(r.time).toISOString() } : {}) });

/** At most `n` records: the first and the last ones, which say when it started and that it goes on. */
function sample(records: readonly LogRecord[], n = 4): EvidenceItem[] {
  if (records.length <= n) return records.map(recordEvidence);
  return [...records.slice(0, 1), ...records.slice(-(n - 1))].map(recordEvidence);
}

function versionAtLeast(version: string | undefined, major: number, minor: number): boolean | undefined {
  const m = version ? /^(\d+)\.(\d+)/.exec(version) : null;
  if (!m) return undefined;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/** sshd time values as `sshd -T` prints them (seconds, or with units in ChannelTimeout). */
export function parseSshdSeconds(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  const re = /(\d+)([smhdwSMHDW]?)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * (units[(m[2] || 's').toLowerCase()] ?? 1);
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

class Findings {
  readonly causes: Cause[] = [];
  readonly ruledOut: string[] = [];

  constructor(private readonly input: DiagnoseInput) {}

  fix(playbook: string, vars: Record<string, string>, note: string): CauseFix {
    if (!this.input.playbooks.has(playbook)) return { note };
    const varArgs = Object.entries(vars).map(([k, v]) => ` --var ${k}=${/^[\w.:/@+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`}`);
    return { playbook, command: `${this.input.applyCommand} ${playbook} -l ${this.input.host.name}${varArgs.join('')}`, note };
  }

  add(cause: Omit<Cause, 'chain'> & { chain?: CauseCode[] }): Cause {
    const existing = this.causes.find((c) => c.code === cause.code);
    if (existing) {
      existing.evidence.push(...cause.evidence);
      return existing;
    }
    const full: Cause = { chain: [], ...cause };
    this.causes.push(full);
    return full;
  }

  has(code: CauseCode): boolean {
    return this.causes.some((c) => c.code === code);
  }
}

const eventsFor = <K extends LogEvent['kind']>(log: readonly LogRecord[], kind: K, client?: string): (LogRecord & { event: Extract<LogEvent, { kind: K }> })[] =>
  log.filter((r): r is LogRecord & { event: Extract<LogEvent, { kind: K }> } => r.event.kind === kind && (client === undefined || ('client' in r.event && sameClient(client, r.event.client))));

/** What the runner's own probe shows, before any host evidence. */
function classifyProbe(input: DiagnoseInput, findings: Findings): void {
  const { probe } = input;
  if (probe.preBanner && /Exceeded MaxStartups/i.test(probe.preBanner)) {
    findings.add({
      code: 'maxstartups',
      summary: 'sshd is shedding new connections: more unauthenticated connections are pending than MaxStartups allows',
      evidence: [{ source: 'probe', text: `the server sent "${probe.preBanner.trim()}" instead of its banner` }],
      fix: findings.fix('playbooks/max-startups.yaml', {}, 'raise MaxStartups (e.g. 100:30:500), a global-only setting'),
    });
  }
  if (probe.negotiation) {
    const { algorithm, client, server } = probe.negotiation;
    findings.add({
      code: ALGORITHM_CAUSE[algorithm],
      summary: `the runner and the host share no ${ALGORITHM_KEYWORD[algorithm]} algorithm`,
      evidence: [{ source: 'probe', text: `runner offers ${client.join(',')}; host offers ${server.join(',')}` }],
      fix: algorithmFix(findings, algorithm, server),
    });
  }
  if (probe.stage === 'ok' || probe.stage === 'session') return;
  if (probe.stage === 'tcp') {
    findings.ruledOut.push('TCP wrappers, MaxStartups and PerSourcePenalties: they accept the TCP connection first, and this one was not accepted');
  } else if (probe.stage === 'banner' && !probe.preBanner) {
    const waited = probe.closedBeforeBannerMs;
    findings.ruledOut.push(
      waited !== undefined && waited >= 4_000
        ? `the connection closed after ${(waited / 1000).toFixed(1)} s with no banner, as libwrap does (it waits 5 s): TCP wrappers, a fail2ban hostsdeny ban or an sshguard hosts-backend block; MaxStartups and penalties close at once`
        : 'the connection closed at once with no banner: MaxStartups shedding, a PerSourcePenalties penalty or a firewall; libwrap would have waited about 5 s',
    );
  }
}

function algorithmFix(findings: Findings, algorithm: AlgorithmKind, serverOffer: readonly string[]): CauseFix {
  const keyword = ALGORITHM_KEYWORD[algorithm];
  const wanted = serverOffer[0] ?? '<algorithm>';
  return findings.fix(
    'playbooks/client-legacy-host.yaml',
    { host: '<client host alias>', algorithm: wanted },
    `sshd refuses ${keyword} inside a Match block, so the scoped fix is on the client: a Host block for this one server with ${keyword} +${wanted} (never under Host *), or the inventory's per-host algorithms: entry; enabling it on the server is global`,
  );
}

/** Everything the host's state and logs say for the connect symptom. */
function classifyConnect(input: DiagnoseInput, evidence: HostEvidence, findings: Findings): void {
  const { client, user } = input;
  const log = evidence.log;
  const logs = evidence.logSources.join(', ') || 'no log';

  // fail2ban
  const banLines = eventsFor(log, 'fail2ban', client);
  const firstBan = banLines.find((r) => r.event.action === 'ban' || r.event.action === 'restore-ban');
  const banned = (evidence.fail2ban?.jails ?? []).filter((j) => j.banned.some((b) => sameClient(client, b)));
  // What fed a ban: this client's refusals before it (refusals after it are the ban's own doing).
  const before = (r: LogRecord): boolean => !firstBan || firstBan.time === undefined || r.time === undefined || r.time < firstBan.time;
  const feeders = (): CauseCode[] => {
    const chain = new Set<CauseCode>();
    for (const r of eventsFor(log, 'access-denied', client).filter(before)) chain.add(ACCESS_CAUSE[r.event.list]);
    for (const r of eventsFor(log, 'negotiation-failed', client).filter(before)) chain.add(ALGORITHM_CAUSE[r.event.algorithm]);
    if (eventsFor(log, 'wrappers-refused', client).some(before)) chain.add('tcp-wrappers');
    return [...chain];
  };
  if (banned.length > 0) {
    findings.add({
      code: 'fail2ban-ban',
      summary: `fail2ban has banned ${client} in ${banned.map((j) => `jail ${j.name}`).join(', ')}`,
      chain: feeders(),
      evidence: [
        ...banned.map((j) => ({ source: `fail2ban-client status ${j.name}`, text: `Banned IP list: ${j.banned.join(' ')}` })),
        ...sample(banLines),
      ],
      fix: findings.fix('playbooks/fail2ban-ignore-runner.yaml', { address: client }, `add ${client} to ignoreip of the jail in jail.local (never jail.conf), reload fail2ban, then unban it`),
    });
  } else if (evidence.fail2ban) {
    findings.ruledOut.push(`fail2ban: ${evidence.fail2ban.running ? `${client} is banned in none of ${evidence.fail2ban.jails.map((j) => j.name).join(', ') || 'its jails'}` : 'installed but not running'}`);
  }

  // sshguard
  const blocked = evidence.sshguard?.blocked.some((b) => sameClient(client, b)) ?? false;
  if (blocked && evidence.sshguard) {
    findings.add({
      code: 'sshguard-block',
      summary: `sshguard blocks ${client} (${evidence.sshguard.backend} backend)`,
      chain: feeders(),
      evidence: [{ source: evidence.sshguard.source, text: `${client} is in sshguard's block list` }],
      fix: findings.fix('playbooks/sshguard-unblock.yaml', { address: client }, `whitelist ${client} in sshguard's WHITELIST_FILE and remove the block from the ${evidence.sshguard.backend} backend`),
    });
  } else if (evidence.sshguard) {
    findings.ruledOut.push(evidence.sshguard.running ? `sshguard: ${client} is not blocked (${evidence.sshguard.backend} backend)` : 'sshguard: installed but not running');
  }

  // TCP wrappers (a fail2ban hostsdeny ban and sshguard's hosts backend are wrappers lines too)
  const refused = eventsFor(log, 'wrappers-refused', client);
  const wrappers = evidence.wrappers;
  if (wrappers && !wrappers.libwrap) {
    findings.ruledOut.push('TCP wrappers: sshd does not link libwrap here, so hosts.allow and hosts.deny do not apply to it');
  } else if (wrappers?.decision && !wrappers.decision.granted) {
    const deciding: EvidenceItem[] = wrappers.decision.source ? [{ source: wrappers.decision.source, ...(wrappers.decision.line ? { line: wrappers.decision.line } : {}), text: wrappers.decision.text ?? '' }] : [];
    const banLine = banned.length > 0 && wrappers.decision.source?.endsWith('hosts.deny') && wrappers.decision.text !== undefined && new RegExp(`(^|[\\s:,])${client.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[\\s,])`).test(wrappers.decision.text);
    if (wrappers.decision.sshguardBlock) {
      findings.add({
        code: 'sshguard-block',
        summary: `sshguard blocks ${client} through its hosts backend (a DENY line in hosts.allow)`,
        chain: feeders(),
        evidence: [...deciding, ...sample(refused)],
        fix: findings.fix('playbooks/sshguard-unblock.yaml', { address: client }, `whitelist ${client} and remove it from sshguard's block in hosts.allow`),
      });
    } else if (banLine) {
      const ban = findings.causes.find((c) => c.code === 'fail2ban-ban');
      ban?.evidence.push(...deciding, ...sample(refused, 2));
    } else {
      findings.add({
        code: 'tcp-wrappers',
        summary: `TCP wrappers refuse ${client} for sshd`,
        evidence: [...deciding, ...sample(refused)],
        fix: findings.fix('playbooks/tcp-wrappers-allow.yaml', { address: client }, `add a narrow "sshd: ${client}" line to hosts.allow, before any line that denies it`),
      });
    }
  } else if (wrappers?.decision?.granted) {
    findings.ruledOut.push(`TCP wrappers: hosts.allow/hosts.deny grant sshd to ${client}${wrappers.decision.source ? ` (${wrappers.decision.source}:${wrappers.decision.line ?? '?'})` : ''}`);
  }

  // MaxStartups: global, so any client's drops count (random drops under load).
  const drops = [...eventsFor(log, 'maxstartups-drop'), ...eventsFor(log, 'maxstartups-throttling')].sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  const maxStartups = evidence.sshd?.get('maxstartups')?.[0];
  if (drops.length > 0) {
    findings.add({
      code: 'maxstartups',
      summary: `sshd dropped ${eventsFor(log, 'maxstartups-drop').length} connection(s) past MaxStartups${maxStartups ? ` (${maxStartups})` : ''}`,
      evidence: sample(drops),
      fix: findings.fix('playbooks/max-startups.yaml', {}, 'raise MaxStartups (e.g. 100:30:500), a global-only setting'),
    });
  } else if (!findings.has('maxstartups')) {
    findings.ruledOut.push(`MaxStartups${maxStartups ? ` (${maxStartups})` : ''}: no connection dropped past it in ${logs}`);
  }

  // PerSourcePenalties (9.8+)
  const penalised = [...eventsFor(log, 'penalty-drop', client), ...eventsFor(log, 'penalty', client)].sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  const hasPenalties = versionAtLeast(evidence.opensshVersion, 9, 8);
  if (penalised.length > 0 || (hasPenalties && input.probe.preBanner && /Not allowed at this time/.test(input.probe.preBanner) && drops.length === 0)) {
    const settings = evidence.sshd?.get('persourcepenalties')?.[0];
    findings.add({
      code: 'per-source-penalty',
      summary: `sshd's PerSourcePenalties refuse ${client} for a while after failed or unauthenticated connections from it`,
      evidence: [
        ...sample(penalised),
        ...(penalised.length === 0 ? [{ source: 'probe', text: `the server sent "${(input.probe.preBanner ?? '').trim()}" and logged no MaxStartups drop` }] : []),
        ...(settings ? [{ source: 'sshd -T', text: `persourcepenalties ${settings}` }] : []),
      ],
      fix: findings.fix('playbooks/penalty-exempt.yaml', { address: client }, `add ${client} to PerSourcePenaltyExemptList (a global-only setting; a reload also clears the penalties sshd holds)`),
    });
  } else if (hasPenalties === false) {
    findings.ruledOut.push(`PerSourcePenalties: OpenSSH ${evidence.opensshVersion} predates them (9.8)`);
  } else if (hasPenalties) {
    findings.ruledOut.push(`PerSourcePenalties: no penalty for ${client} in ${logs}`);
  }

  // AllowUsers / DenyUsers / AllowGroups / DenyGroups, as sshd now decides for this user and address.
  if (evidence.sshd) {
    const list = (k: string): string[] => (evidence.sshd?.get(k) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
    const lists: AccessLists = { allowUsers: list('allowusers'), denyUsers: list('denyusers'), allowGroups: list('allowgroups'), denyGroups: list('denygroups') };
    const decision = accessDecision(lists, { user, address: client, ...(evidence.groups ? { groups: evidence.groups } : {}) });
    if (decision.allowed === false) {
      const code = ACCESS_CAUSE[decision.list];
      const lines = eventsFor(log, 'access-denied', client).filter((r) => r.event.user === user);
      const byAccount = code === 'allow-users' || code === 'deny-users';
      findings.add({
        code,
        summary: `sshd refuses ${user} from ${client} after authentication: ${decision.reason}`,
        evidence: [{ source: `sshd -T -C user=${user},addr=${client}`, text: decision.reason }, ...sample(lines)],
        fix: byAccount
          ? findings.fix('playbooks/allow-users.yaml', { account: user }, `add ${user} to AllowUsers and take it off DenyUsers`)
          : { note: `change ${decision.list} (or the account's groups) so that ${user} is let in; sshfix ships no playbook for group lists yet` },
      });
    } else if (decision.allowed === true) {
      findings.ruledOut.push(`AllowUsers/DenyUsers/AllowGroups/DenyGroups: ${user} from ${client} is allowed`);
    } else {
      findings.ruledOut.push(decision.reason);
    }
  }

  // Algorithms the client offered that the host does not accept.
  for (const r of eventsFor(log, 'negotiation-failed', client)) {
    const { algorithm, offer } = r.event;
    findings.add({
      code: ALGORITHM_CAUSE[algorithm],
      summary: `${client} offers only ${ALGORITHM_KEYWORD[algorithm]} the host does not accept (${offer.join(',')})`,
      evidence: [recordEvidence(r)],
      fix: algorithmFix(findings, algorithm, offer),
    });
  }
}

/** Idle drops: what on the server closes an idle session, else the network path. */
function classifyIdle(input: DiagnoseInput, evidence: HostEvidence, findings: Findings): void {
  const dump = evidence.sshd;
  const value = (k: string): string | undefined => dump?.get(k)?.[0];
  const channelTimeout = dump?.get('channeltimeout')?.join(' ');
  const source = `sshd -T -C user=${input.user},addr=${input.client}`;
  if (channelTimeout && channelTimeout !== 'none') {
    const sessions = channelTimeout.split(/\s+/).filter((t) => /^(session|global|\*)/.test(t));
    if (sessions.length > 0) {
      findings.add({
        code: 'channel-timeout',
        summary: `ChannelTimeout closes session channels that carry no traffic (${sessions.join(' ')}): keepalives do not count as channel traffic`,
        evidence: [{ source, text: `channeltimeout ${channelTimeout}` }],
        fix: findings.fix('playbooks/channel-timeout.yaml', {}, 'remove ChannelTimeout for sessions, or raise it above the longest idle time users need'),
      });
    }
  }
  const unused = value('unusedconnectiontimeout');
  if (unused && unused !== 'none' && unused !== '0') {
    findings.add({
      code: 'unused-connection-timeout',
      summary: `UnusedConnectionTimeout closes connections with no open channel after ${unused}`,
      evidence: [{ source, text: `unusedconnectiontimeout ${unused}` }],
      fix: { note: 'unset UnusedConnectionTimeout or raise it; it only affects connections without channels (ssh -N, multiplexing masters)' },
    });
  }
  const interval = Number(value('clientaliveinterval') ?? '0');
  const countMax = Number(value('clientalivecountmax') ?? '3');
  const closed = input.idleProbe?.closedAfterMs;
  if (interval > 0 && closed !== undefined && countMax > 0) {
    const expected = interval * countMax * 1000;
    if (Math.abs(closed - expected) <= Math.max(5_000, expected * 0.25)) {
      findings.add({
        code: 'client-alive',
        summary: `sshd gave up after ${countMax} unanswered ClientAlive probes (${interval}s apart): its probes do not reach the client or its answers get lost on the way`,
        evidence: [{ source, text: `clientaliveinterval ${interval}, clientalivecountmax ${countMax}` }, { source: 'idle probe', text: `closed after ${(closed / 1000).toFixed(0)} s` }],
        fix: { note: 'find what drops the probes on the path; client ServerAliveInterval keeps the flow busy from the other side' },
      });
    }
  } else if (interval === 0) {
    findings.ruledOut.push('ClientAliveInterval is 0: sshd sends no probes and never drops an idle client for not answering');
  }
  if (!findings.causes.some((c) => c.code === 'channel-timeout' || c.code === 'unused-connection-timeout' || c.code === 'client-alive')) {
    findings.ruledOut.push('sshd: no ChannelTimeout or UnusedConnectionTimeout closes idle sessions');
    const probe = input.idleProbe;
    findings.add({
      code: 'network-idle',
      summary:
        probe === undefined
          ? 'nothing on the server closes idle sessions: a NAT, firewall or load balancer on the path drops idle flows'
          : probe.closedAfterMs !== undefined
            ? `a quiet session from the runner was closed after ${(probe.closedAfterMs / 1000).toFixed(0)} s though nothing on the server closes idle sessions: something on the path drops idle flows`
            : `a quiet session from the runner survived ${(probe.heldMs / 1000).toFixed(0)} s and nothing on the server closes idle sessions: the client's own path (NAT, load balancer) drops idle flows`,
      evidence: [
        { source, text: `channeltimeout ${channelTimeout ?? '(unset)'}, unusedconnectiontimeout ${unused ?? '(unset)'}, clientaliveinterval ${interval}, tcpkeepalive ${value('tcpkeepalive') ?? '?'}` },
        ...(probe ? [{ source: 'idle probe', text: probe.closedAfterMs !== undefined ? `closed after ${(probe.closedAfterMs / 1000).toFixed(0)} s` : `held ${(probe.heldMs / 1000).toFixed(0)} s` }] : []),
      ],
      fix: input.playbooks.has('playbooks/client-keepalive.yaml')
        ? findings.fix('playbooks/client-keepalive.yaml', { host: input.host.name }, 'client ServerAliveInterval below the path\'s idle timeout')
        : findings.fix('playbooks/server-keepalive.yaml', {}, 'server ClientAliveInterval below the path\'s idle timeout keeps the flow busy (or client ServerAliveInterval 60)'),
    });
  }
}

/** Classifies a host's evidence into causes. */
export function classifyDrop(input: DiagnoseInput): Diagnosis {
  const findings = new Findings(input);
  const reach: string[] = [];
  if (input.symptom === 'connect') classifyProbe(input, findings);
  if (input.evidence) {
    if (input.symptom === 'connect') classifyConnect(input, input.evidence, findings);
    else classifyIdle(input, input.evidence, findings);
  } else if (input.probe.stage === 'tcp' || input.probe.stage === 'banner') {
    // Refused before the SSH banner: the runner's address is what the host holds against it.
    reach.push(
      'connect from an address the host has not banned: set bind_address for this host in the inventory (the runner\'s source address)',
      'or go through another host that the host still lets in: set jump for this host in the inventory',
    );
  } else if (input.probe.stage === 'kex' && input.probe.negotiation) {
    const { algorithm, server } = input.probe.negotiation;
    const category = { kex: 'kex', cipher: 'cipher', mac: 'hmac', hostkey: 'hostkey' }[algorithm];
    reach.push(`let the runner speak one of the host's algorithms, for this host only: algorithms: { ${category}: ["+${server[0] ?? '<algorithm>'}"] } on it in the inventory`);
  }
  return { causes: findings.causes, ruledOut: findings.ruledOut, reach };
}
