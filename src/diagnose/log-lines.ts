/**
 * Reading the server's log lines that tell the causes of a dropped connection apart. Pure: text
 * in, typed events out. Formats by OpenSSH version (reference: shared diagnosis notes):
 * - the syslog envelope: Debian's traditional `Nov 30 12:50:44 host sshd[23026]: ...`, RFC 3339
 *   (`2026-11-30T12:50:44.123456+00:00 host sshd[1]: ...`, rsyslog's high-precision format) and
 *   journalctl's short-iso (`2026-11-30T12:50:44+0000 host sshd[1]: ...`);
 * - per-connection lines are tagged `sshd` up to 9.7, `sshd-session` from 9.8, `sshd-auth` from 10.0;
 * - fail2ban's own log (`2026-11-30 12:50:44,123 fail2ban.actions [1]: NOTICE [sshd] Ban 192.0.2.7`).
 */

/** What a log line says, for the causes sshfix tells apart. Addresses are as the line wrote them. */
export type LogEvent =
  /** MaxStartups shed a connection (8.4–9.7 `past MaxStartups`, 9.8+ `past Maxstartups`). */
  | { kind: 'maxstartups-drop'; client: string }
  /** 9.8+: a connection dropped because its source is penalised. */
  | { kind: 'penalty-drop'; client: string; reason: string }
  /** 9.8+: a penalty was given to (or activated for) a source address or net block. */
  | { kind: 'penalty'; client: string; penalty: string; seconds: number }
  /** 8.4–9.7: `beginning/exited MaxStartups throttling`, `in MaxStartups throttling ...`. */
  | { kind: 'maxstartups-throttling'; text: string }
  | { kind: 'access-denied'; user: string; client: string; list: AccessList }
  | { kind: 'invalid-user'; user: string; client: string }
  | { kind: 'negotiation-failed'; client: string; algorithm: AlgorithmKind; offer: string[] }
  /** libwrap (TCP wrappers) refused the connection. */
  | { kind: 'wrappers-refused'; client: string; clientName: string }
  | { kind: 'auth-failed'; user: string; client: string; method: string }
  | { kind: 'accepted'; user: string; client: string; method: string }
  | { kind: 'login-grace-timeout'; client: string }
  | { kind: 'fail2ban'; action: 'ban' | 'restore-ban' | 'unban' | 'found'; jail: string; client: string };

/** Which access list refused a user (sshd's auth.c wording). */
export type AccessList = 'AllowUsers' | 'DenyUsers' | 'AllowGroups' | 'DenyGroups';
export type AlgorithmKind = 'kex' | 'cipher' | 'mac' | 'hostkey';

export interface LogLine {
  /** Where the line was read (`/var/log/auth.log`, `journal`). */
  source: string;
  /** 1-based line number in that source. */
  line: number;
  text: string;
}

/** A log line understood: its time (ms since the epoch, when it could be read), program and event. */
export interface LogRecord extends LogLine {
  time?: number;
  program: string;
  event: LogEvent;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const TRADITIONAL = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\S+) ([^\s[:]+)(?:\[(\d+)\])?: (.*)$/;
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})? (\S+) ([^\s[:]+)(?:\[(\d+)\])?: (.*)$/;
const FAIL2BAN = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:,(\d{3}))? (fail2ban\.\S+)\s+\[\d+\]: +\S+ +\[([^\]]+)\] (Ban|Restore Ban|Unban|Found) (\S+)/;

/** The time of a traditional syslog stamp, which has no year: the latest such time not after `now` (plus a day of clock skew). */
function traditionalTime(month: string, day: string, h: string, m: string, s: string, now: number): number | undefined {
  const monthIndex = MONTHS.indexOf(month);
  if (monthIndex < 0) return undefined;
  const year = new Date(now).getUTCFullYear();
  for (const y of [year, year - 1]) {
    const t = Date.UTC(y, monthIndex, Number(day), Number(h), Number(m), Number(s));
    if (t <= now + 86_400_000) return t;
  }
  return undefined;
}

function isoTime(stamp: string, zone: string | undefined): number | undefined {
  const normalisedZone = zone === undefined ? 'Z' : zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const t = Date.parse(`${stamp}${normalisedZone}`);
  return Number.isNaN(t) ? undefined : t;
}

const stripPreauth = (text: string): string => text.replace(/ \[preauth\]$/, '');

const ALGORITHM_WORDS: Record<string, AlgorithmKind> = {
  'key exchange method': 'kex',
  cipher: 'cipher',
  MAC: 'mac',
  'host key type': 'hostkey',
};

/** The PerSourcePenalties kind (`authfail` ...) a penalty line's reason stands for; the reason itself when unknown. */
function penaltyKind(reason: string): string {
  if (/failed authentication/.test(reason)) return 'authfail';
  if (/without attempting authentication/.test(reason)) return 'noauth';
  if (/LoginGraceTime/.test(reason)) return 'grace-exceeded';
  if (/crash/.test(reason)) return 'crash';
  if (/RefuseConnection/.test(reason)) return 'refuseconnection';
  return reason;
}

/** The event an sshd (or sshd-session, sshd-auth) message reports, if it is one sshfix reads. */
export function sshdEvent(message: string): LogEvent | undefined {
  const text = stripPreauth(message);
  let m = /drop connection #\d+ from \[([^\]]+)\]:\d+ on \[[^\]]+\]:\d+ (?:past [Mm]ax[Ss]tartups|penalty: (.*))$/.exec(text);
  if (m) return m[2] !== undefined ? { kind: 'penalty-drop', client: m[1] as string, reason: m[2] } : { kind: 'maxstartups-drop', client: m[1] as string };
  // As 10.0's srclimit.c logs them (VERBOSE for deferred ones, INFO once active):
  //   srclimit_penalise: ipv4: new 127.0.0.10/32 deferred penalty of 10 seconds for penalty: failed authentication
  //   srclimit_penalise: 127.0.0.10/32: activating ipv4 penalty of 19 seconds for penalty: failed authentication
  m = /srclimit_penalise: ipv[46]: new (\S+) (?:deferred|active) penalty of (\d+(?:\.\d+)?) seconds for (?:penalty: )?(.*)$/.exec(text) ??
    /srclimit_penalise: (\S+): activating ipv[46] penalty of (\d+(?:\.\d+)?) seconds for (?:penalty: )?(.*)$/.exec(text);
  if (m) return { kind: 'penalty', client: m[1] as string, seconds: Number(m[2]), penalty: penaltyKind(m[3] as string) };
  m = /(?:new|activating) (\S+) penalty of (\d+(?:\.\d+)?) seconds for (\S+)/.exec(text);
  if (m) return { kind: 'penalty', penalty: m[1] as string, seconds: Number(m[2]), client: (m[3] as string).replace(/[,;:]$/, '') };
  if (/(?:beginning|exited|in) MaxStartups throttling/.test(text)) return { kind: 'maxstartups-throttling', text };
  m = /^User (\S+) from (\S+) not allowed because (.*)$/.exec(text);
  if (m) {
    const why = m[3] as string;
    const list: AccessList | undefined = /not listed in AllowUsers/.test(why)
      ? 'AllowUsers'
      : /listed in DenyUsers/.test(why)
        ? 'DenyUsers'
        : /listed in DenyGroups/.test(why)
          ? 'DenyGroups'
          : /AllowGroups|not in any group/.test(why)
            ? 'AllowGroups'
            : undefined;
    if (list) return { kind: 'access-denied', user: m[1] as string, client: m[2] as string, list };
  }
  m = /^Invalid user (.*) from (\S+)(?: port \d+)?$/.exec(text);
  if (m) return { kind: 'invalid-user', user: m[1] as string, client: m[2] as string };
  m = /^Unable to negotiate with (\S+) port \d+: no matching (key exchange method|cipher|MAC|host key type) found\. Their offer: (\S*)/.exec(text);
  if (m) return { kind: 'negotiation-failed', client: m[1] as string, algorithm: ALGORITHM_WORDS[m[2] as string] as AlgorithmKind, offer: (m[3] as string).split(',').filter(Boolean) };
  m = /^refused connect from (\S+) \(([^)]+)\)$/.exec(text);
  if (m) return { kind: 'wrappers-refused', clientName: m[1] as string, client: m[2] as string };
  m = /^Failed (\S+) for (?:invalid user )?(\S+) from (\S+) port \d+/.exec(text);
  if (m) return { kind: 'auth-failed', method: m[1] as string, user: m[2] as string, client: m[3] as string };
  m = /^Accepted (\S+) for (\S+) from (\S+) port \d+/.exec(text);
  if (m) return { kind: 'accepted', method: m[1] as string, user: m[2] as string, client: m[3] as string };
  m = /^Timeout before authentication for (?:connection from )?(\S+)/.exec(text);
  if (m) return { kind: 'login-grace-timeout', client: m[1] as string };
  return undefined;
}

const SSHD_PROGRAMS = new Set(['sshd', 'sshd-session', 'sshd-auth']);

/**
 * Reads one log line. Returns undefined for lines that tell nothing about a dropped connection
 * (and for other programs' lines). `now` dates traditional syslog stamps, which have no year.
 */
export function readLogLine(line: LogLine, now: number): LogRecord | undefined {
  const f2b = FAIL2BAN.exec(line.text);
  if (f2b) {
    const action = ({ Ban: 'ban', 'Restore Ban': 'restore-ban', Unban: 'unban', Found: 'found' } as const)[f2b[6] as 'Ban' | 'Restore Ban' | 'Unban' | 'Found'];
    const time = isoTime(`${f2b[1]}T${f2b[2]}${f2b[3] ? `.${f2b[3]}` : ''}`, undefined);
    return { ...line, ...(time !== undefined ? { time } : {}), program: f2b[4] as string, event: { kind: 'fail2ban', action, jail: f2b[5] as string, client: f2b[7] as string } };
  }
  let program: string | undefined;
  let message: string | undefined;
  let time: number | undefined;
  const trad = TRADITIONAL.exec(line.text);
  if (trad) {
    time = traditionalTime(trad[1] as string, trad[2] as string, trad[3] as string, trad[4] as string, trad[5] as string, now);
    program = trad[7];
    message = trad[9];
  } else {
    const iso = ISO.exec(line.text);
    if (!iso) return undefined;
    time = isoTime(iso[1] as string, iso[2]);
    program = iso[4];
    message = iso[6];
  }
  if (!program || message === undefined || !SSHD_PROGRAMS.has(program)) return undefined;
  const event = sshdEvent(message);
  if (!event) return undefined;
  return { ...line, ...(time !== undefined ? { time } : {}), program, event };
}

/** Every line of `lines` that reports an event, at or after `since` (lines without a readable time are kept). */
export function readLogLines(lines: readonly LogLine[], options: { now: number; since?: number }): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of lines) {
    const record = readLogLine(line, options.now);
    if (!record) continue;
    if (options.since !== undefined && record.time !== undefined && record.time < options.since) continue;
    records.push(record);
  }
  return records;
}

/** Splits a log file's text into numbered lines. */
export function splitLogText(source: string, text: string): LogLine[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((t, i) => ({ source, line: i + 1, text: t.replace(/\r$/, '') }));
}
