/**
 * The types of the sshd_config keyword table (keywords.ts), apart from it so the value parsers
 * (values.ts) and the defaults (defaults.ts) can name them without importing the table.
 */

/**
 * The shape of a keyword's value. Each kind has one parser (values.ts) that both validates and
 * normalises to what `sshd -T` prints.
 */
export type SshdValueType =
  | 'flag' // yes | no
  | 'choice' // one word of `choices`
  | 'integer' // 0 ..= 2^31-1
  | 'time' // sshd time syntax: 90, 1m30s, 2h ... printed in seconds
  | 'time-or-none' // time, or `none` (UnusedConnectionTimeout)
  | 'maxstartups' // N or start:rate:full
  | 'algorithms' // comma list, optionally prefixed with + - ^
  | 'path' // one file name; `none` where the keyword allows it
  | 'path-list' // several file names on one line (AuthorizedKeysFile)
  | 'string' // one word, kept as written
  | 'command' // the rest of the line, verbatim (ForceCommand, AuthorizedKeysCommand)
  | 'user-patterns' // AllowUsers / DenyUsers: user[@host] patterns
  | 'group-patterns' // AllowGroups / DenyGroups
  | 'env-names' // AcceptEnv: variable names or patterns
  | 'env-assignments' // SetEnv: NAME=value ...
  | 'port'
  | 'listen-address'
  | 'subsystem' // name command [args]
  | 'ipqos' // one or two DSCP names or numbers
  | 'rekey-limit' // bytes [interval]
  | 'octal-mask' // StreamLocalBindMask
  | 'netblock-size' // PerSourceNetBlockSize v4[:v6]
  | 'persource-limit' // PerSourceMaxStartups: integer or none
  | 'persource-penalties' // PerSourcePenalties: yes | no | name:value ... (each field combines on its own)
  | 'address-list' // PerSourcePenaltyExemptList: one word, addresses/CIDRs/patterns joined by commas
  | 'log-level'
  | 'log-facility'
  | 'permit-open' // PermitOpen / PermitListen: host:port ... | any | none
  | 'auth-methods' // AuthenticationMethods
  | 'channel-timeout' // type=interval ... | none
  | 'log-verbose'
  | 'fingerprint-hash'
  | 'pubkey-auth-options'
  | 'permit-user-environment' // yes | no | pattern-list
  | 'version-addendum'
  | 'rdomain'
  | 'include'
  | 'match'
  | 'ignored'; // deprecated or unsupported: sshd logs it and goes on

/**
 * How repeated lines combine, in the version asked for.
 * - `first`: the first line read wins (sshd's `if (*intptr == -1)`).
 * - `last`: every line overwrites (MaxStartups & co in 9.2).
 * - `accumulate`: every line adds its values (AllowUsers, Port, HostKey ...).
 * - `first-line`: several values on one line; the first line wins whole (SetEnv, AuthorizedKeysFile).
 */
export type SshdCombine = 'first' | 'last' | 'accumulate' | 'first-line';

/** The algorithm families whose names sshd checks against what it was built with. */
export type SshdAlgorithmFamily = 'kex' | 'cipher' | 'mac' | 'hostkey' | 'pubkey' | 'sig' | 'gss-kex';

/**
 * One sshd keyword. Constraints: `name` is the spelling sshd_config(5) uses; `dumpName` is
 * lowercase; `since`/`until` are OpenSSH versions ("9.2"), `until` exclusive.
 */
export interface SshdKeyword {
  /** Canonical spelling, e.g. 'ClientAliveInterval'. */
  name: string;
  /** As `sshd -T` prints it, e.g. 'clientaliveinterval'. */
  dumpName: string;
  /** False: sshd refuses the keyword inside Match ("not allowed within a Match block"). */
  matchAllowed: boolean;
  value: SshdValueType;
  combine: SshdCombine;
  /** OpenSSH version that added the keyword (absent: older than 7.4 or irrelevant). */
  since?: string;
  /** OpenSSH version from which sshd no longer knows it. */
  until?: string;
  /** Words accepted by a `choice` value, first spelling of each meaning as `sshd -T` prints it. */
  choices?: readonly string[];
  /** For `algorithms` values: which list of names the host's OpenSSH knows. */
  algorithmFamily?: SshdAlgorithmFamily;
  /** True for keywords whose line holds several values that `add`/`remove` edits can manage. */
  list?: boolean;
  /** False when `sshd -T` never prints the keyword (ignored ones, DebianBanner, RDomain on Linux). */
  printed: boolean;
  /** Deprecated or unsupported: sshd only logs it. */
  ignored?: boolean;
  /** Only in the Debian/Ubuntu package (GSSAPI key exchange, DebianBanner). */
  vendor?: 'debian';
  /** The spelling that was looked up, when it is an alias of `name` (e.g. 'ChallengeResponseAuthentication'). */
  alias?: string;
  /** Lowercase aliases that sshd reads as this keyword. */
  aliases?: readonly string[];
  /** Version-dependent facts, applied by `lookupSshdKeyword(name, version)`. */
  changes?: readonly SshdKeywordChange[];
}

/** A fact about a keyword that holds from `since` on. */
export interface SshdKeywordChange {
  since: string;
  combine?: SshdCombine;
  matchAllowed?: boolean;
  /** From this version on, `sshd -T` prints (or stops printing) the keyword. */
  printed?: boolean;
}

/** A problem with a value, as a value: `code` is stable, `message` may change wording. */
export interface SshdValueProblem {
  code: string;
  message: string;
  hint?: string;
}
