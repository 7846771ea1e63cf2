/**
 * Turns what went wrong during a connection attempt (ssh2's error `level` and message, socket
 * errno codes, and what the attempt had seen by then) into a TransportError an operator can act
 * on. Pure: the connection code records the facts, this decides what they mean.
 */
import {
  ALGORITHM_SETTING_NAMES,
  commonAlgorithms,
  realAlgorithms,
  suggestAlgorithm,
  type AlgorithmCategory,
} from './algorithms.js';
import { TransportError, type TransportErrorCode } from './types.js';

/** Both sides' lists for one algorithm category, as ssh2 compared them. */
export interface OfferPair {
  client: string[];
  server: string[];
}

/** The lists of the key exchange, captured from ssh2's `debug` output of the two KEXINITs. */
export type NegotiationOffers = Partial<Record<AlgorithmCategory, OfferPair>>;

/** Facts an attempt collects while it runs; every field is plain data. */
export interface AttemptFacts {
  name: string;
  address: string;
  port: number;
  user: string;
  /** The jump host this attempt went through, when any. */
  via?: string;
  tcpConnected: boolean;
  /** The server's identification line (`SSH-2.0-OpenSSH_9.2p1 ...`) once received. */
  serverBanner?: string;
  /** Text the server sent before its banner or instead of it (`Exceeded MaxStartups`). */
  preBanner?: string;
  /** Key exchange finished (host key accepted, keys in use). */
  handshakeDone: boolean;
  offers: NegotiationOffers;
  auth: AuthRecord;
  elapsedMs: number;
  timeoutMs: number;
  /** Set by the host key verifier when it refused the key: that refusal is the real cause. */
  hostKeyRefusal?: TransportError;
}

/** What authentication tried, for an auth-failed message; never holds a secret. */
export interface AuthRecord {
  /** Human descriptions of each method tried, in order (`publickey /path/id_ed25519 (ED25519 SHA256:...)`). */
  tried: string[];
  /** The methods the server said can continue (from its last USERAUTH_FAILURE). */
  serverAllows?: string[];
  /** Why a configured method was not tried (agent socket missing, ...). */
  notes: string[];
}

export function emptyAttemptFacts(target: { name: string; address: string; port: number; user: string }, timeoutMs: number): AttemptFacts {
  return {
    name: target.name,
    address: target.address,
    port: target.port,
    user: target.user,
    tcpConnected: false,
    handshakeDone: false,
    offers: {},
    auth: { tried: [], notes: [] },
    elapsedMs: 0,
    timeoutMs,
  };
}

const DEBUG_OFFER = /^Handshake: \((local|remote)\) (KEX method|Host key format|C->S cipher|C->S MAC): (.*)$/;
const DEBUG_CATEGORY: Record<string, AlgorithmCategory> = {
  'KEX method': 'kex',
  'Host key format': 'serverHostKey',
  'C->S cipher': 'cipher',
  'C->S MAC': 'hmac',
};

/** Records the algorithm lists from one line of ssh2's debug output (other lines are ignored). */
export function recordNegotiationDebug(line: string, offers: NegotiationOffers): void {
  const match = DEBUG_OFFER.exec(line);
  if (!match) return;
  const category = DEBUG_CATEGORY[match[2] as string] as AlgorithmCategory;
  const list = (match[3] as string).split(',').filter((s) => s !== '');
  const pair = (offers[category] ??= { client: [], server: [] });
  if (match[1] === 'local') pair.client = list;
  else pair.server = list;
}

interface SshLikeError {
  message?: unknown;
  level?: unknown;
  code?: unknown;
  reason?: unknown;
}

function fields(err: unknown): { message: string; level?: string; code?: string | number } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SshLikeError;
  const out: { message: string; level?: string; code?: string | number } = {
    message: typeof e.message === 'string' ? e.message : String(err),
  };
  if (typeof e.level === 'string') out.level = e.level;
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
  return out;
}

function hostPort(f: Pick<AttemptFacts, 'address' | 'port'>): string {
  return f.address.includes(':') && !f.address.startsWith('[') ? `[${f.address}]:${f.port}` : `${f.address}:${f.port}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

function baseDetails(f: AttemptFacts, err: unknown): Record<string, unknown> {
  const { message, level, code } = fields(err);
  const details: Record<string, unknown> = {
    address: f.address,
    port: f.port,
    user: f.user,
    elapsedMs: Math.round(f.elapsedMs),
    sshError: { message, ...(level ? { level } : {}), ...(code !== undefined ? { code } : {}) },
  };
  if (f.via) details.via = f.via;
  if (f.serverBanner) details.serverBanner = f.serverBanner;
  return details;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ESERVFAIL', 'ENODATA']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

const BAN_DIAGNOSIS =
  'sshd accepted the TCP connection and dropped it before saying anything. The usual causes: ' +
  '(1) a fail2ban or sshguard ban of this address (fail2ban often enforces it through /etc/hosts.deny): ' +
  '`fail2ban-client status sshd` lists banned addresses; ' +
  '(2) TCP wrappers: a `sshd:` rule in /etc/hosts.deny (only where sshd links libwrap, as on Debian) - ' +
  'the host\'s log says `refused connect from ...`; ' +
  '(3) MaxStartups shedding unauthenticated connections under load: intermittent, worse with more parallel ' +
  'connections, and the log says `drop connection #N from ... past MaxStartups`. ' +
  'Run `sshfix diagnose HOST` from a machine that can still log in, or read the host\'s auth log around this time.';

/**
 * The TransportError for a failed connection attempt. `err` is whatever ssh2, the socket or the
 * resolver raised (or undefined when the connection simply closed).
 */
export function classifyConnectError(err: unknown, f: AttemptFacts): TransportError {
  if (f.hostKeyRefusal) return f.hostKeyRefusal;
  if (err instanceof TransportError) return err;
  const { message, level, code } = fields(err);
  const where = hostPort(f);
  const details = baseDetails(f, err);
  const make = (c: TransportErrorCode, msg: string, diagnosis: string, extra: Record<string, unknown> = {}): TransportError =>
    new TransportError(c, msg, diagnosis, { ...details, ...extra }, err);

  if (level === 'client-dns' || (typeof code === 'string' && DNS_CODES.has(code))) {
    const temporary = code === 'EAI_AGAIN';
    return make(
      'dns',
      `cannot resolve "${f.address}"${temporary ? ' (the resolver did not answer)' : ''}`,
      temporary
        ? 'The DNS resolver of the control machine did not answer: check /etc/resolv.conf and the network, then retry.'
        : 'No such name: check the address in the inventory for a typo, and the control machine\'s /etc/hosts and resolver. ' +
            'Names under .invalid never resolve (RFC 6761).',
    );
  }
  if (code === 'ECONNREFUSED') {
    return make(
      'refused',
      `connection refused by ${where}`,
      'Nothing accepts connections on that port: sshd is stopped, listens on another Port or ListenAddress, or a firewall ' +
        'rejects this address with a TCP reset (sshguard and fail2ban can be set up to reject rather than drop). ' +
        'On the host: `ss -ltnp | grep sshd` and `sshd -T | grep -E "^(port|listenaddress) "`.',
    );
  }
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return make(
      'unreachable',
      `no route to ${where} (${code})`,
      'The network says the host cannot be reached: it is down, the address is wrong, or a router or firewall answers ' +
        'with "unreachable". Check the address and the route (`ip route get ADDRESS`).',
    );
  }
  if (level === 'client-timeout' || code === 'ETIMEDOUT') {
    if (!f.tcpConnected) return tcpTimeout(f, make, where);
    if (!f.serverBanner) {
      return make(
        'timeout',
        `${where} accepted the TCP connection but sent no SSH banner within ${seconds(f.timeoutMs)}`,
        'Something holds the port without speaking SSH, or sshd is stalled before its banner: a tarpit, a TCP proxy or ' +
          'port forward whose backend is gone, or an overloaded machine. (An sshd that refuses new connections - ' +
          'MaxStartups, TCP wrappers, a ban through hosts.deny - closes at once instead of hanging.)',
        { phase: 'banner' },
      );
    }
    const phase = f.handshakeDone ? 'authentication' : 'key exchange';
    return make(
      'timeout',
      `${where} answered (${f.serverBanner}) but ${phase} did not finish within ${seconds(f.timeoutMs)}`,
      f.handshakeDone
        ? 'Authentication stalled: a slow PAM stack or account lookup (LDAP, SSSD), reverse DNS with UseDNS yes, or an ' +
            'agent that does not answer. Raise connect_timeout for this host if it is merely slow.'
        : 'Key exchange stalled: an overloaded host, or a slow key exchange (diffie-hellman-group-exchange with large ' +
            'groups). Raise connect_timeout for this host if it is merely slow.',
      { phase },
    );
  }

  if ((level === 'protocol' && /before handshake/i.test(message)) || (!f.serverBanner && f.tcpConnected && isCloseLike(err, code))) {
    const said = f.preBanner?.trim();
    const maxStartups = said !== undefined && /Exceeded MaxStartups|Not allowed at this time/i.test(said);
    return make(
      'closed-before-banner',
      `${where} closed the connection before sending its SSH banner${said ? ` (it said: "${truncate(said, 120)}")` : ''}`,
      maxStartups
        ? 'The server is shedding connections: sshd\'s MaxStartups limit of unauthenticated connections was reached ' +
            '(its log says `drop connection #N ... past MaxStartups`). Raise MaxStartups (e.g. `100:30:500`) or lower ' +
            'the number of parallel connections (--forks).'
        : BAN_DIAGNOSIS,
      said ? { preBanner: said } : {},
    );
  }

  if (level === 'handshake') {
    const mismatch = classifyMismatch(message, f, make, where);
    if (mismatch) return mismatch;
    if (/Host denied/i.test(message)) {
      return make(
        'host-key-unknown',
        `the host key of ${where} was not accepted`,
        'known_hosts has no matching key for this host. Check its fingerprint with the host\'s owner and add it with ssh-keyscan.',
      );
    }
    return make(
      'connection-lost',
      `key exchange with ${where} failed: ${message}`,
      'The SSH handshake failed after both sides agreed on algorithms. This points at a broken middlebox, a damaged ' +
        'host key, or an interoperability bug; try the same connection with OpenSSH (`ssh -vvv`) to compare.',
    );
  }

  if (level === 'client-authentication' || /authentication methods failed/i.test(message) || code === 14) {
    return authFailed(f, make, where);
  }

  if (typeof code === 'number') {
    // A DISCONNECT from the server: its own words are the best explanation available.
    return make(
      'connection-lost',
      `${where} disconnected: ${message}`,
      'The server ended the session with the reason above. Its auth log at this time says more.',
      { disconnectReason: code },
    );
  }

  if (!f.handshakeDone) {
    return make(
      'connection-lost',
      `${where} closed the connection during key exchange${message && message !== 'undefined' ? ` (${message})` : ''}`,
      'sshd sent its banner and then hung up: LoginGraceTime expired, PerSourcePenalties (OpenSSH 9.8+) penalised this ' +
        'address, or sshd crashed. The host\'s auth log says which.',
    );
  }
  return make(
    'connection-lost',
    `${where} closed the connection during authentication${message && message !== 'undefined' ? ` (${message})` : ''}`,
    'sshd hung up before authentication finished: MaxAuthTries exceeded (too many keys offered), LoginGraceTime, or an ' +
      'account that may not log in at all. The host\'s auth log says which.',
  );
}

type Maker = (c: TransportErrorCode, msg: string, diagnosis: string, extra?: Record<string, unknown>) => TransportError;

function isCloseLike(err: unknown, code: string | number | undefined): boolean {
  return err === undefined || code === 'ECONNRESET' || code === 'EPIPE';
}

function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max)}...` : oneLine;
}

function tcpTimeout(f: AttemptFacts, make: Maker, where: string): TransportError {
  return make(
    'timeout',
    `no answer from ${where} within ${seconds(f.timeoutMs)}${f.via ? ` (through ${f.via})` : ''}`,
    'The connection attempt got no reply at all: the host is down, the address is wrong, or a firewall drops the ' +
      'packets (sshguard and fail2ban\'s nftables/iptables actions DROP a banned address). Test from another machine; ' +
      'on the host, `nft list ruleset | grep -i sshguard` and `fail2ban-client status sshd` show bans.',
    { phase: 'tcp' },
  );
}

const MISMATCH: readonly { pattern: RegExp; category: AlgorithmCategory; code: TransportErrorCode }[] = [
  { pattern: /no matching key exchange/i, category: 'kex', code: 'kex-mismatch' },
  { pattern: /no matching host key/i, category: 'serverHostKey', code: 'hostkey-algorithm-mismatch' },
  { pattern: /no matching .*cipher/i, category: 'cipher', code: 'cipher-mismatch' },
  { pattern: /no matching .*MAC/i, category: 'hmac', code: 'mac-mismatch' },
];

function classifyMismatch(message: string, f: AttemptFacts, make: Maker, where: string): TransportError | undefined {
  const rule = MISMATCH.find((m) => m.pattern.test(message));
  if (!rule) return undefined;
  const { category, code } = rule;
  const names = ALGORITHM_SETTING_NAMES[category];
  const pair = f.offers[category];
  const server = realAlgorithms(pair?.server ?? []);
  const client = realAlgorithms(pair?.client ?? []);
  const suggestion = suggestAlgorithm(category, server);
  const common = commonAlgorithms(category, server);
  // The RFC name reads better in advice than ssh2's first choice, curve25519-sha256@libssh.org.
  const modern = client.find((a) => !a.includes('@')) ?? client[0];
  const msg =
    `no common ${names.what} with ${where}. ` +
    `Server offers: ${server.length > 0 ? server.join(', ') : '(not captured)'}. ` +
    `sshfix (ssh2) offers: ${client.length > 0 ? client.join(', ') : '(not captured)'}.`;
  let diagnosis: string;
  if (suggestion) {
    const others = common.filter((a) => a !== suggestion);
    diagnosis =
      `The server only offers ${names.what}s that ssh2 leaves out by default. Scoped fix for this host only: in the ` +
      `inventory, \`algorithms: { ${names.inventory}: ["+${suggestion}"] }\` on host ${f.name}, or in ssh_config a ` +
      `\`Host ${f.address}\` block with \`${names.sshConfig} +${suggestion}\` - never \`Host *\`, which weakens every ` +
      `connection. ${suggestion} is the strongest ${names.what} both sides support` +
      `${others.length > 0 ? ` (also possible: ${others.join(', ')})` : ''}. ` +
      `The lasting fix is on the server: offer a current ${names.sshConfig} (e.g. ${modern ?? 'the OpenSSH defaults'}) ` +
      `alongside the legacy one.`;
  } else {
    diagnosis =
      `ssh2 implements none of the ${names.what}s this server offers, so no client-side setting can bridge it. The ` +
      `server must offer one that ssh2 speaks (${names.sshConfig} in sshd_config), e.g. ${client.slice(0, 3).join(', ') || 'curve25519-sha256'}.`;
  }
  return make(code, msg, diagnosis, {
    category,
    serverOffer: server,
    clientOffer: client,
    ...(suggestion ? { suggestion, fix: { algorithms: { [names.inventory]: [`+${suggestion}`] } } } : {}),
  });
}

function authFailed(f: AttemptFacts, make: Maker, where: string): TransportError {
  const tried = f.auth.tried.length > 0 ? f.auth.tried.join('; ') : 'nothing';
  const allows = f.auth.serverAllows;
  const usable = allows?.filter((m) => m !== 'none');
  const msg = `${f.user}@${where}: authentication failed (tried: ${tried}; server allows: ${usable && usable.length > 0 ? usable.join(', ') : 'unknown'})`;
  const parts: string[] = [];
  const triedTypes = new Set(f.auth.tried.map((t) => t.split(' ')[0]));
  if (usable && usable.length > 0 && ![...triedTypes].some((t) => usable.includes(t === 'agent' ? 'publickey' : (t as string)))) {
    parts.push(`The server accepts only ${usable.join(', ')} for this account, and sshfix had none of those to offer.`);
  }
  parts.push(
    `Either no offered credential is authorised for "${f.user}" (check ~${f.user}/.ssh/authorized_keys on the host, or ` +
      'AuthorizedKeysFile in `sshd -T`), or sshd refuses the account whatever the key: AllowUsers, DenyUsers, ' +
      'AllowGroups, DenyGroups, PermitRootLogin, or a locked/expired account. The host\'s auth log says which ' +
      `(\`User ${f.user} from ... not allowed because ...\`); \`sshfix diagnose\` checks the access lists.`,
  );
  if (f.auth.notes.length > 0) parts.push(`Not tried: ${f.auth.notes.join('; ')}.`);
  return make('auth-failed', msg, parts.join(' '), { tried: f.auth.tried, serverAllows: allows ?? null, notes: f.auth.notes });
}

/**
 * The TransportError for a jump host that would not open a channel to the target (`forwardOut`).
 * The jump host's sshd makes the TCP connection, so its words are all there is to go on.
 */
export function classifyForwardError(err: unknown, f: AttemptFacts, jump: string): TransportError {
  const { message } = fields(err);
  const reason = typeof err === 'object' && err !== null ? (err as SshLikeError).reason : undefined;
  const where = hostPort(f);
  const details = { ...baseDetails(f, err), via: jump, ...(typeof reason === 'number' ? { channelOpenReason: reason } : {}) };
  const make = (c: TransportErrorCode, msg: string, diagnosis: string): TransportError => new TransportError(c, msg, diagnosis, details, err);
  if (reason === 1 || /prohibited/i.test(message)) {
    return make(
      'jump-failed',
      `jump host ${jump} refused to forward a connection to ${where}: ${message}`,
      `sshd on ${jump} does not allow TCP forwarding for this account: AllowTcpForwarding no, DisableForwarding yes, ` +
        'PermitOpen or a restrictive authorized_keys entry (permitopen, restrict). Allow forwarding to the targets there.',
    );
  }
  if (/refused/i.test(message)) {
    return make('refused', `connection refused by ${where} (seen from jump host ${jump})`, 'Nothing accepts connections on that port as seen from the jump host: sshd is stopped or listens elsewhere, or a firewall between them rejects it.');
  }
  if (/timed out/i.test(message)) return tcpTimeout(f, make, where);
  if (/no route|unreachable/i.test(message)) {
    return make('unreachable', `no route to ${where} from jump host ${jump}`, 'The jump host cannot reach that address: check the address and the jump host\'s routes.');
  }
  if (/not known|resolve|name/i.test(message)) {
    return make('dns', `jump host ${jump} cannot resolve "${f.address}"`, 'The name is resolved on the jump host: check the address and the jump host\'s resolver.');
  }
  return make(
    'jump-failed',
    `jump host ${jump} could not open a channel to ${where}: ${message}`,
    `The jump host's sshd refused or failed the forwarding request; its auth log says why.`,
  );
}
