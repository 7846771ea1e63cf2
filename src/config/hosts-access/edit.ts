/**
 * The tcp_wrappers task's edit: make sure a client gets through to a daemon by adding one narrow
 * line (`sshd: 192.0.2.7`) to hosts.allow, placed before the first line that would refuse the
 * client, never inside sshguard's block, and nothing when libwrap already grants.
 *
 * For an address the evaluator decides: when it grants, nothing changes and the note names the
 * deciding line; when a hosts.allow line refuses, the new line goes right before it; when
 * hosts.deny refuses, it goes at the end of hosts.allow (no hosts.allow line matched). A network,
 * a host name or `ALL` cannot be evaluated as one client, so the line goes before the first
 * hosts.allow line that may refuse for that daemon, whatever its client list (earlier than needed
 * is harmless: the new line grants only what it names).
 *
 * The evaluation takes the client's name as libwrap would find it (`clientName`); by default the
 * lookup is taken to fail (`unknown`), as tcpdmatch does for an address.
 *
 * Pure: takes the files' texts, returns their new texts.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import { describeDecision, evaluateHostsAccess, matchContext, type AccessRequest, type HostsAccessTables } from './evaluate.js';
import { canonicalAddress, hostMatch, listMatch, serverMatch, type HostInfo, type MatchContext } from './match.js';
import { evaluateOptions } from './options.js';
import { dominantLineEnding, parseHostsAccess, splitOutsideBrackets, type HostsAccessEntry, type HostsAccessFile } from './parse.js';
import { findSshguardBlock, insideSshguardBlock, type SshguardBlock } from './sshguard.js';
import { validateHostsClient, validateHostsDaemon, type ValidClient } from './validate.js';

export const HOSTS_ALLOW = '/etc/hosts.allow';
export const HOSTS_DENY = '/etc/hosts.deny';

/** The tables as gathered: `undefined` text for a file that does not exist (libwrap: empty). */
export interface HostsAccessTexts {
  allow?: string;
  deny?: string;
  allowPath?: string;
  denyPath?: string;
  patternFiles?: ReadonlyMap<string, string>;
}

export interface AllowRequest {
  daemon: string;
  client: string;
  /** The client's name as libwrap would find it (address clients only); `unknown` by default. */
  clientName?: string;
  /** The host's own endpoint, for `daemon@host` items; unknown by default. */
  server?: Partial<HostInfo>;
}

export interface HostsAccessFileEdit {
  path: string;
  action: 'create' | 'update';
  before: string;
  after: string;
}

export interface EnsureAllowedResult {
  edits: HostsAccessFileEdit[];
  /** Why nothing changed (no edit and no error). */
  note?: string;
  /** The line added, without its ending. */
  line?: string;
  warnings: Diagnostic[];
  /** Refusals: the request is invalid, or no line in hosts.allow can let the client through. */
  errors: Diagnostic[];
}

const sameToken = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function sameClient(token: string, client: ValidClient): boolean {
  if (client.kind !== 'address') return sameToken(token, client.pattern);
  const inner = token.startsWith('[') && token.endsWith(']') ? token.slice(1, -1) : token;
  return canonicalAddress(inner) === client.address && token.includes(':') === client.pattern.includes(':');
}

/** Whether a hosts.allow rule refuses when it matches (deny, twist or an options error). */
function refusesInAllow(entry: HostsAccessEntry): boolean {
  if (entry.kind !== 'rule' || !entry.options) return false;
  const kind = evaluateOptions(entry.options.text).kind;
  return kind !== 'none' && kind !== 'allow';
}

/**
 * Whether a rule's daemon list may match the daemon. A `daemon@host` item counts by its daemon
 * alone unless the server is known: refusing lines are then placed after, never before, sshfix's.
 */
function daemonMayMatch(entry: HostsAccessEntry, daemon: string, ctx: MatchContext, serverKnown: boolean): boolean {
  if (daemon === 'ALL') return true;
  const items = entry.daemons.map((t) => {
    const at = splitOutsideBrackets(t.value, '@', 1);
    return serverKnown || at === -1 ? t.value : t.value.slice(0, at);
  });
  return listMatch(items, (tok) => serverMatch(tok, { ...ctx, daemon }));
}

/** Where a line appended to hosts.allow goes: before a last entry libwrap cannot read (its newline is missing). */
function appendIndex(file: HostsAccessFile): number {
  const last = file.entries[file.entries.length - 1];
  return last?.problem === 'missing-newline' ? file.entries.length - 1 : file.entries.length;
}

const where = (path: string, e: HostsAccessEntry): string => (e.line === e.lastLine ? `${path}:${e.line}` : `${path}:${e.line}-${e.lastLine}`);

function insertLine(file: HostsAccessFile, text: string, index: number, line: string): string {
  const eol = dominantLineEnding(text);
  let out = '';
  file.entries.forEach((e, i) => {
    if (i === index) out += line + eol;
    out += e.raw;
  });
  if (index >= file.entries.length) out += line + eol;
  return out;
}

function paranoidWarnings(tables: HostsAccessTables, daemon: string, ctx: MatchContext, serverKnown: boolean, allowFrom: number): Diagnostic[] {
  const out: Diagnostic[] = [];
  const scan = (file: HostsAccessFile, from: number): void => {
    file.entries.forEach((e, i) => {
      if (i < from || e.kind !== 'rule' || !daemonMayMatch(e, daemon, ctx, serverKnown)) return;
      if (!e.clients.some((t) => sameToken(t.value, 'PARANOID'))) return;
      out.push({
        severity: 'warning',
        code: 'hosts-access-paranoid-bypassed',
        message: `the new line lets the client in before ${where(file.path, e)}, which refuses clients whose name and address do not agree (PARANOID): that check no longer applies to it`,
        file: file.path,
        range: { start: { line: e.line, column: 1 }, end: { line: e.lastLine, column: 1 } },
      });
    });
  };
  scan(tables.allow, allowFrom);
  scan(tables.deny, 0);
  return out;
}

interface Placement {
  index: number;
  /** A refusing hosts.allow entry the line must precede. */
  before?: HostsAccessEntry;
}

function placeForAddress(tables: HostsAccessTables, block: SshguardBlock | undefined, daemon: string, client: ValidClient, request: AllowRequest): Placement | { note: string } | { error: Diagnostic } {
  const decision = evaluateHostsAccess(tables, addressRequest(daemon, client.address!, request));
  if (decision.access === 'granted') return { note: `${client.pattern} already gets through to ${daemon}: ${describeDecision(decision)}` };
  const rule = decision.decidedBy!;
  if (rule.table === 'deny') return { index: appendIndex(tables.allow) };
  const index = tables.allow.entries.indexOf(rule.entry);
  if (insideSshguardBlock(block, index)) {
    return {
      error: {
        severity: 'error',
        code: 'hosts-access-sshguard-blocked',
        message: `${client.pattern} is blocked by sshguard (${where(tables.allow.path, rule.entry)}, inside its ${'###sshguard###'} block): a line in hosts.allow cannot go before it`,
        hint: 'unblock the address with the sshguard task (unblock: [...]) and whitelist it there',
        file: tables.allow.path,
        range: { start: { line: rule.line, column: 1 }, end: { line: rule.lastLine, column: 1 } },
      },
    };
  }
  return { index, before: rule.entry };
}

function placeForPattern(tables: HostsAccessTables, block: SshguardBlock | undefined, daemon: string, client: ValidClient, ctx: MatchContext, serverKnown: boolean): Placement | { note: string } {
  const entries = tables.allow.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (insideSshguardBlock(block, i) || e.kind !== 'rule' || !daemonMayMatch(e, daemon, ctx, serverKnown)) continue;
    const lone = e.daemons.length === 1 && sameToken(e.daemons[0]!.value, daemon) && e.clients.length === 1 && sameClient(e.clients[0]!.value, client);
    if (lone && !refusesInAllow(e)) return { note: `${client.pattern} is already let through to ${daemon} by ${where(tables.allow.path, e)}: ${e.logical.trim()}` };
    if (refusesInAllow(e)) return { index: i, before: e };
  }
  return { index: appendIndex(tables.allow) };
}

/** Ensures `request.client` gets through TCP wrappers to `request.daemon`. */
export function ensureAllowed(texts: HostsAccessTexts, request: AllowRequest): EnsureAllowedResult {
  const warnings: Diagnostic[] = [];
  const errors: Diagnostic[] = [];
  const daemon = validateHostsDaemon(request.daemon);
  const client = validateHostsClient(request.client);
  for (const v of [daemon, client]) {
    if (v.ok) warnings.push(...v.warnings);
    else errors.push(...v.diagnostics);
  }
  if (!daemon.ok || !client.ok) return { edits: [], warnings, errors };

  const allowPath = texts.allowPath ?? HOSTS_ALLOW;
  const allowText = texts.allow ?? '';
  const tables: HostsAccessTables = {
    allow: parseHostsAccess(allowText, allowPath),
    deny: parseHostsAccess(texts.deny ?? '', texts.denyPath ?? HOSTS_DENY),
    ...(texts.patternFiles ? { patternFiles: texts.patternFiles } : {}),
  };
  const block = findSshguardBlock(tables.allow);
  if (block && block.closeIndex === undefined) {
    errors.push({
      severity: 'error',
      code: 'hosts-access-sshguard-unclosed',
      message: `${allowPath}:${block.openLine} opens sshguard's block with no closing marker: sshguard deletes everything after it when it stops`,
      hint: 'repair the block (or stop sshguard, which clears it) before editing hosts.allow',
      file: allowPath,
      range: { start: { line: block.openLine, column: 1 }, end: { line: block.openLine, column: 1 } },
    });
    return { edits: [], warnings, errors };
  }

  const ctx = matchContext(tables, addressRequest(daemon.value, client.value.address ?? 'unknown', request));
  const serverKnown = request.server?.address !== undefined;
  const placement =
    client.value.kind === 'address' && daemon.value !== 'ALL'
      ? placeForAddress(tables, block, daemon.value, client.value, request)
      : placeForPattern(tables, block, daemon.value, client.value, ctx, serverKnown);
  if ('note' in placement) return { edits: [], note: placement.note, warnings, errors };
  if ('error' in placement) return { edits: [], warnings, errors: [...errors, placement.error] };

  if (block && placement.index < block.openIndex) {
    warnings.push({
      severity: 'warning',
      code: 'hosts-access-above-sshguard',
      message: `the new line must stand above sshguard's block (${allowPath}:${block.openLine}) to come before ${where(allowPath, placement.before!)}: sshguard's hosts backend can no longer block this client`,
      file: allowPath,
    });
  }
  if (client.value.network && block) {
    const inside = block.items.filter((i) => i.address !== undefined && addressInNetwork(i.address, client.value.pattern));
    for (const item of inside) {
      warnings.push({
        severity: 'warning',
        code: 'hosts-access-sshguard-blocked',
        message: `sshguard blocks ${item.text} inside ${client.value.pattern} (${allowPath}, its block comes first): the new line does not lift that block`,
        file: allowPath,
      });
    }
  }
  warnings.push(...paranoidWarnings(tables, daemon.value, ctx, serverKnown, placement.index));

  const line = `${daemon.value}: ${client.value.pattern}`;
  const after = insertLine(tables.allow, allowText, placement.index, line);
  if (client.value.kind === 'address' && daemon.value !== 'ALL') {
    const check = evaluateHostsAccess({ ...tables, allow: parseHostsAccess(after, allowPath) }, addressRequest(daemon.value, client.value.address!, request));
    if (check.access !== 'granted') throw new Error(`internal error: the added line does not grant ${client.value.pattern} (${describeDecision(check)}); please report`);
  }
  return {
    edits: [{ path: allowPath, action: texts.allow === undefined ? 'create' : 'update', before: allowText, after }],
    line,
    warnings,
    errors,
  };
}

function addressRequest(daemon: string, clientAddress: string, request: AllowRequest): AccessRequest {
  return {
    daemon,
    clientAddress,
    ...(request.clientName !== undefined ? { clientName: request.clientName } : {}),
    ...(request.server ? { server: request.server } : {}),
  };
}

function addressInNetwork(address: string, pattern: string): boolean {
  const empty = parseHostsAccess('', '');
  const ctx = matchContext({ allow: empty, deny: empty }, { daemon: 'sshd', clientAddress: address });
  return hostMatch(pattern, ctx.client, ctx);
}
