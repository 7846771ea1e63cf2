/**
 * `Match` criteria of sshd_config: reading them, deciding whether a connection matches (as
 * `sshd -T -C ...` does), and comparing two criteria lines by meaning for edits.
 */
import { splitArguments, splitDelimited } from '../openssh/lexer.js';
import { parseOpensshVersion } from '../openssh/version.js';
import { compareVersions, DEFAULT_OPENSSH_VERSION } from './version-compare.js';
import { addressListMatches, inNetwork, normaliseAddress, parseAddr, parseSshdInteger, matchWildcard, type Addr } from './values.js';

// Callers outside the config engine know it as a Match concern.
export { addressListMatches };

/**
 * The connection `sshd -T -C` is asked about. Absent fields are "not given": a criterion that
 * needs one does not match (sshd's test mode). `groups` are the user's groups (sshd asks the
 * system; a pure engine has to be told), none when absent.
 */
export interface MatchConnection {
  user?: string;
  host?: string;
  addr?: string;
  laddr?: string;
  lport?: number;
  rdomain?: string;
  groups?: readonly string[];
  /**
   * The user's groups are not known: take the user to be in every group a Group criterion names
   * and in none it negates (lockout prediction judges both ways).
   */
  anyGroup?: boolean;
  /** The user does not exist (`-C invalid-user`, OpenSSH 9.9+): what `Match invalid-user` tests. */
  invalidUser?: boolean;
}

/** The criteria sshd knows (9.2's, plus `invalid-user` from 9.9 and `version` from 10.0), lowercase. */
export type MatchAttribute = 'all' | 'invalid-user' | 'user' | 'group' | 'host' | 'address' | 'localaddress' | 'localport' | 'rdomain' | 'version';

export interface MatchCriterion {
  attribute: MatchAttribute;
  /** The pattern list; absent only for `all` and `invalid-user`, which take none. */
  value?: string;
}

/** The OpenSSH release that added each criterion newer than 9.2 (servconf.c's match_cfg_line). */
const ATTRIBUTE_SINCE: Readonly<Partial<Record<MatchAttribute, string>>> = { 'invalid-user': '9.9', version: '10.0' };

const ATTRIBUTES: readonly MatchAttribute[] = ['all', 'invalid-user', 'user', 'group', 'host', 'address', 'localaddress', 'localport', 'rdomain', 'version'];

/** Criteria that 10.0 also reads as one word `name=value` (servconf.c keeps this list next to match_cfg_line). */
const JOINED_FORM: ReadonlySet<MatchAttribute> = new Set(['user', 'group', 'host', 'address', 'localaddress', 'localport', 'rdomain', 'version']);

/** What a Match line is evaluated against besides the connection: the build's rules and release. */
export interface MatchBuild {
  /** OpenSSH version whose rules apply ("9.2", "9.9p1", "10.0"); 9.2 when absent. */
  version?: string;
  /**
   * The build's release string, as `sshd -V` prints it before the comma (`OpenSSH_10.0p2`, or
   * `OpenSSH_10.0p2 Debian-7` when the package adds its own suffix): what `Match version` tests.
   */
  release?: string;
}

/** Canonical spelling for writing criteria back ("Address", "LocalPort" ...). */
export const MATCH_ATTRIBUTE_SPELLING: Readonly<Record<MatchAttribute, string>> = {
  all: 'All',
  user: 'User',
  group: 'Group',
  host: 'Host',
  address: 'Address',
  localaddress: 'LocalAddress',
  localport: 'LocalPort',
  rdomain: 'RDomain',
  'invalid-user': 'Invalid-User',
  version: 'Version',
};

export interface MatchCriteriaProblem {
  code: string;
  message: string;
  hint?: string;
}

/**
 * The words of a Match line's criteria as `version` reads them: up to 9.8 with `strdelim` (white
 * space or one `=` between words, so `User=alice` is two words), from 9.9 with the `argv_split`
 * every line goes through (an `=` stays in its word), and from 10.0 a word `user=alice` of an
 * attribute that takes a value is split at its first `=`.
 */
function criteriaWords(rest: string, version: string): string[] | undefined {
  if (compareVersions(version, '9.9') < 0) return splitDelimited(rest);
  const split = splitArguments(rest);
  if (!split) return undefined;
  const words: string[] = [];
  for (const { value } of split.args) {
    const eq = value.indexOf('=');
    const name = eq > 0 ? (value.slice(0, eq).toLowerCase() as MatchAttribute) : undefined;
    if (name !== undefined && JOINED_FORM.has(name) && compareVersions(version, '10.0') >= 0) words.push(value.slice(0, eq), value.slice(eq + 1));
    else words.push(value);
  }
  return words;
}

/** Reads the text after `Match`, as the given OpenSSH version does (9.2 when absent). */
export function parseMatchCriteria(rest: string, version: string = DEFAULT_OPENSSH_VERSION): { criteria: MatchCriterion[] } | { problem: MatchCriteriaProblem } {
  const words = criteriaWords(rest, version);
  if (!words) return { problem: { code: 'bad-match', message: 'unbalanced quotes in Match criteria' } };
  const criteria: MatchCriterion[] = [];
  for (let i = 0; i < words.length; i++) {
    const attribute = words[i]!.toLowerCase() as MatchAttribute;
    if (!ATTRIBUTES.includes(attribute)) {
      return { problem: { code: 'bad-match', message: `unsupported Match attribute "${words[i]}"` } };
    }
    const since = ATTRIBUTE_SINCE[attribute];
    if (since !== undefined && compareVersions(version, since) < 0) {
      return {
        problem: {
          code: 'bad-match',
          message: `unsupported Match attribute "${words[i]}": OpenSSH ${version} does not know it (added in ${since})`,
          hint: `Match ${MATCH_ATTRIBUTE_SPELLING[attribute]} needs OpenSSH ${since} or newer on the host`,
        },
      };
    }
    if (attribute === 'all') {
      if (criteria.length > 0 || i + 1 < words.length) {
        return { problem: { code: 'bad-match', message: "'all' cannot be combined with other Match attributes" } };
      }
      criteria.push({ attribute });
      continue;
    }
    if (attribute === 'invalid-user') {
      criteria.push({ attribute });
      continue;
    }
    const value = words[i + 1];
    if (value === undefined || value === '') {
      return { problem: { code: 'bad-match', message: `missing Match criteria for ${words[i]}` } };
    }
    i++;
    if ((attribute === 'address' || attribute === 'localaddress') && addressListMatches(undefined, value) === -2) {
      return { problem: { code: 'bad-match', message: `invalid Match ${attribute === 'address' ? 'address' : 'localaddress'} argument "${value}"` } };
    }
    if (attribute === 'localport') {
      const p = parseSshdInteger(value, 65535);
      if (p === undefined && value !== 'ssh') return { problem: { code: 'bad-match', message: `invalid LocalPort "${value}" on Match line` } };
    }
    criteria.push({ attribute, value });
  }
  if (criteria.length === 0) return { problem: { code: 'bad-match', message: 'one or more attributes required for Match' } };
  return { criteria };
}

/** OpenSSH's `match_pattern_list`: 1 positive match, -1 negated match, 0 none. */
export function matchPatternList(s: string, patterns: string, lowercase = false): 1 | 0 | -1 {
  let positive = false;
  for (const raw of patterns.split(',')) {
    const negated = raw.startsWith('!');
    let p = negated ? raw.slice(1) : raw;
    if (lowercase) p = p.toLowerCase();
    if (matchWildcard(s, p)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}


/**
 * Result of testing one Match line. `missing` names what the answer lacks: a local port that
 * sshd -T would die on, or the build's release string that `Match version` compares (unknown:
 * the line is taken as not matching).
 */
export interface MatchOutcome {
  matches: boolean;
  missing?: 'lport' | 'release';
}

/**
 * Whether a Match line applies. `connection` undefined is sshd's first, connection-less pass,
 * where only `Match all` and a matching `Match version` apply (and, in 9.9p1 only, `Match
 * invalid-user`); otherwise sshd's test mode (`-T [-C ...]`).
 */
export function evaluateMatch(criteria: readonly MatchCriterion[], connection: MatchConnection | undefined, build: MatchBuild = {}): MatchOutcome {
  let matches = true;
  let missing: MatchOutcome['missing'];
  for (const c of criteria) {
    if (c.attribute === 'all') return { matches: true };
    const v = c.value ?? '';
    if (c.attribute === 'version') {
      // Tested against the build's SSH_RELEASE, case-sensitively, with or without a connection.
      if (build.release === undefined) {
        matches = false;
        missing ??= 'release';
      } else if (matchPatternList(build.release, v) !== 1) matches = false;
      continue;
    }
    if (c.attribute === 'invalid-user') {
      // 9.9p1 left the connection-less pass's result alone, so the block applied at startup; 9.9p2
      // fixed it. The release tells the portable release apart when the version ("9.9") does not.
      const exact = (build.release !== undefined ? parseOpensshVersion(build.release) : undefined) ?? build.version ?? DEFAULT_OPENSSH_VERSION;
      if (!connection && compareVersions(exact, '9.9p2') < 0) continue;
      if (connection?.invalidUser !== true) matches = false;
      continue;
    }
    if (!connection) {
      matches = false;
      continue;
    }
    switch (c.attribute) {
      case 'user':
        if (connection.user === undefined || matchPatternList(connection.user, v) !== 1) matches = false;
        break;
      case 'group': {
        if (connection.user === undefined) {
          matches = false;
          break;
        }
        if (connection.anyGroup) {
          if (!v.split(',').some((p) => p !== '' && !p.startsWith('!'))) matches = false;
          break;
        }
        let found = false;
        for (const g of connection.groups ?? []) {
          const r = matchPatternList(g, v);
          if (r === -1) {
            found = false;
            break;
          }
          if (r === 1) found = true;
        }
        if (!found) matches = false;
        break;
      }
      case 'host':
        if (connection.host === undefined || matchPatternList(connection.host.toLowerCase(), v, true) !== 1) matches = false;
        break;
      case 'address':
        if (connection.addr === undefined || addressListMatches(connection.addr, v) !== 1) matches = false;
        break;
      case 'localaddress':
        if (connection.laddr === undefined || addressListMatches(connection.laddr, v) !== 1) matches = false;
        break;
      case 'localport': {
        if (connection.lport === undefined) return { matches: false, missing: 'lport' };
        const port = v === 'ssh' ? 22 : parseSshdInteger(v, 65535);
        if (port !== connection.lport) matches = false;
        break;
      }
      case 'rdomain':
        if (connection.rdomain === undefined || matchPatternList(connection.rdomain, v) !== 1) matches = false;
        break;
    }
  }
  return missing ? { matches, missing } : { matches };
}

/** A canonical form of criteria for comparing by meaning: order, case of names, address spelling. */
export function canonicalMatchKey(criteria: readonly MatchCriterion[]): string {
  return criteria
    .map((c) => {
      if (c.value === undefined) return c.attribute;
      let items = c.value.split(',');
      if (c.attribute === 'address' || c.attribute === 'localaddress') {
        items = items.map((i) => {
          const neg = i.startsWith('!') ? '!' : '';
          const body = neg ? i.slice(1) : i;
          const [a, bits] = body.split('/');
          const n = a === undefined ? undefined : normaliseAddress(a);
          return n === undefined ? i : `${neg}${n}${bits === undefined ? '' : `/${bits}`}`;
        });
      }
      if (c.attribute === 'host') items = items.map((i) => i.toLowerCase());
      return `${c.attribute}=${[...items].sort().join(',')}`;
    })
    .sort()
    .join(' ');
}

/** Whether two criteria lines select the same connections for every purpose sshfix needs. */
export function sameMatchCriteria(a: readonly MatchCriterion[], b: readonly MatchCriterion[]): boolean {
  return canonicalMatchKey(a) === canonicalMatchKey(b);
}

/** Writes criteria back as text: `User alice Address 192.0.2.0/24`. */
export function formatMatchCriteria(criteria: readonly MatchCriterion[]): string {
  return criteria.map((c) => (c.value === undefined ? MATCH_ATTRIBUTE_SPELLING[c.attribute] : `${MATCH_ATTRIBUTE_SPELLING[c.attribute]} ${c.value}`)).join(' ');
}

/** A network an address-list entry names: `198.51.100.0/24`, `192.0.2.7`, or undefined for a wildcard pattern. */
function networkOf(entry: string): { net: Addr; bits: number } | undefined {
  const slash = entry.indexOf('/');
  const net = parseAddr(slash === -1 ? entry : entry.slice(0, slash));
  if (!net) return undefined;
  const max = net.v === 4 ? 32 : 128;
  const bits = slash === -1 ? max : Number(entry.slice(slash + 1));
  return Number.isInteger(bits) && bits >= 0 && bits <= max ? { net, bits } : undefined;
}

const hasWildcard = (pattern: string): boolean => /[*?]/.test(pattern);

/**
 * Whether every value `inner` (one pattern list) admits is also admitted by `outer`, for one
 * attribute. False whenever it cannot be told for sure (wildcards against networks, negations).
 */
function listCovers(attribute: MatchAttribute, outer: string, inner: string): boolean {
  const innerItems = inner.split(',').filter((p) => !p.startsWith('!'));
  if (innerItems.length === 0) return false;
  const outerItems = outer.split(',');
  const outerNegates = outerItems.some((p) => p.startsWith('!'));
  const outerPositive = outerItems.filter((p) => !p.startsWith('!'));
  switch (attribute) {
    case 'address':
    case 'localaddress':
      if (outerNegates) return false;
      return innerItems.every((item) => {
        const small = networkOf(item);
        if (!small) return outerPositive.includes(item);
        return outerPositive.some((o) => {
          const big = networkOf(o);
          if (!big) return small.bits === (small.net.v === 4 ? 32 : 128) && matchWildcard(item, o);
          return big.net.v === small.net.v && small.bits >= big.bits && inNetwork(small.net, big.net, big.bits);
        });
      });
    case 'localport':
      return innerItems.length === 1 && outerItems.length === 1 && inner === outer;
    case 'group':
      // A user is in several groups: a negated group in `outer` may exclude a member of `inner`.
      if (outerNegates) return false;
      return innerItems.every((g) => (hasWildcard(g) ? outerPositive.includes(g) || outerPositive.includes('*') : matchPatternList(g, outer) === 1));
    default: {
      const lower = attribute === 'host';
      return innerItems.every((p) => {
        const name = lower ? p.toLowerCase() : p;
        if (!hasWildcard(name)) return matchPatternList(name, outer, lower) === 1;
        return !outerNegates && (outerPositive.includes(p) || outerPositive.includes('*'));
      });
    }
  }
}

/**
 * Whether a Match line `outer` provably selects every connection `inner` selects (so a block of
 * `outer` read first decides what it sets for all of them). `Match all` covers everything.
 */
export function matchCovers(outer: readonly MatchCriterion[], inner: readonly MatchCriterion[]): boolean {
  if (outer.some((c) => c.attribute === 'all')) return true;
  if (inner.some((c) => c.attribute === 'all')) return false;
  return outer.every((o) => inner.some((i) => i.attribute === o.attribute && (o.attribute === 'invalid-user' || listCovers(o.attribute, o.value ?? '', i.value ?? ''))));
}
