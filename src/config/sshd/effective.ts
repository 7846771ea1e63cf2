/**
 * Effective sshd configuration: what `sshd -T [-C ...]` would print for a config tree.
 *
 * sshd reads its config twice. The first pass (at startup) has no connection: lines outside Match
 * apply, a Match line switches applying off (only `Match all` back on), and each keyword keeps
 * the first value read, the last, or all of them, depending on the keyword. The second pass (per
 * connection, and in `sshd -T`) re-reads everything but only lines in Match blocks that match;
 * every value it sets replaces the first pass's value (lists are replaced, not merged).
 * Includes are read in place; an included file starts in its parent's Match state and that state
 * is restored after it. This module walks the tree the same way.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import type { ConfigLine } from '../openssh/lexer.js';
import { DEBIAN_12_DEFAULTS, legacyTosIgnored, type AlgorithmLists, type SshdDefaults } from './defaults.js';
import {
  compareVersions,
  DEFAULT_OPENSSH_VERSION,
  SSHD_KEYWORDS,
  lookupSshdKeyword,
  suggestSshdKeyword,
  type SshdKeyword,
} from './keywords.js';
import { evaluateMatch, matchPatternList, parseMatchCriteria, type MatchConnection } from './match.js';
import { includeKey, SSHD_MAX_INCLUDE_DEPTH, type SshdConfigTree } from './tree.js';
import { parseSshdArguments, type SshdValueContext } from './values.js';

export type { MatchConnection } from './match.js';

/** A line in a file: where a value comes from. */
export interface ConfigOrigin {
  path: string;
  line: number;
}

/** One keyword's effective value. */
export interface EffectiveSshdValue {
  dumpName: string;
  /** The value part of each line `sshd -T` prints for the keyword (empty: not printed). */
  values: string[];
  /** The line that decided the value (the first one for accumulated lists); undefined = default. */
  source?: ConfigOrigin;
  /** Every line that contributed (accumulating keywords have several). */
  sources: ConfigOrigin[];
  /** False when the value depends on something a pure engine cannot know (a host name to resolve). */
  exact: boolean;
}

export interface EvaluateSshdOptions {
  /** The connection of `sshd -T -C ...`; undefined is plain `sshd -T`. */
  connection?: MatchConnection;
  /** Defaults of the host's sshd build; Debian 12's OpenSSH 9.2 when absent. */
  defaults?: SshdDefaults;
  /** OpenSSH version whose rules apply (keyword set, which value wins); the defaults' version when absent. */
  version?: string;
  /** The build's release string for `Match Version` (`OpenSSH_10.0p2`); the defaults' when absent. */
  release?: string;
  /** sshd's working directory and root's home, for relative and `~/` paths. */
  cwd?: string;
  home?: string;
}

/** The whole effective configuration, plus what sshd would say about the files. */
export interface EffectiveSshdConfig {
  values: ReadonlyMap<string, EffectiveSshdValue>;
  /** The `sshd -T` output lines, in sshd's order. */
  dump: string[];
  /** Errors are what would make `sshd -t` fail; warnings are lines sshd ignores. */
  diagnostics: Diagnostic[];
}

interface Slot {
  keyword: SshdKeyword;
  items: string[];
  origins: ConfigOrigin[];
  records: Readonly<Record<string, string | number | undefined>>[];
}
type Store = Map<string, Slot>;

interface WalkState {
  tree: SshdConfigTree;
  store: Store;
  connection: MatchConnection | undefined;
  matchPass: boolean;
  version: string;
  release: string | undefined;
  valueContext: SshdValueContext;
  diagnostics: Diagnostic[] | undefined;
}

interface FileFlags {
  matchOnly: boolean;
  neverMatch: boolean;
}

const lineRange = (line: ConfigLine): Diagnostic['range'] => ({
  start: { line: line.line, column: (line.keywordStart ?? 0) + 1 },
  end: { line: line.line, column: line.text.replace(/[ \t\r\f]+$/, '').length + 1 },
});

function report(state: WalkState, path: string, line: ConfigLine, d: Omit<Diagnostic, 'file' | 'range'>): void {
  state.diagnostics?.push({ ...d, file: path, range: lineRange(line) });
}

function setSlot(store: Store, key: string, keyword: SshdKeyword, items: string[], origin: ConfigOrigin, record?: Slot['records'][number]): void {
  store.set(key, { keyword, items, origins: [origin], records: record ? [record] : [] });
}

function apply(state: WalkState, keyword: SshdKeyword, items: string[], fields: Slot['records'][number] | undefined, origin: ConfigOrigin, path: string, line: ConfigLine): void {
  const store = state.store;
  const key = keyword.dumpName;
  const existing = store.get(key);
  switch (keyword.dumpName) {
    case 'maxstartups': {
      // `N` sets start and full and leaves a rate read earlier in place.
      const prev = existing?.records[0];
      if (keyword.combine === 'first' && existing) return;
      if (keyword.combine === 'first' && fields?.rate === undefined) {
        // 10.1 (first line wins) reads a bare N as the limit alone: begin and rate keep
        // fill_default's 10 and 30, so `MaxStartups 50` is 10:30:50 (10.0 and older: 50:30:50).
        setSlot(store, key, keyword, items, origin, { begin: 10, rate: 30, full: fields?.full });
        return;
      }
      const rate = fields?.rate ?? prev?.rate;
      setSlot(store, key, keyword, items, origin, { begin: fields?.begin, rate, full: fields?.full });
      return;
    }
    case 'unusedconnectiontimeout':
      // servconf.c (9.2 to 10.0) sets `none` on every active line without the "already set?"
      // check that a time value gets: none beats earlier values, and later ones stay unread.
      if (fields?.['none'] === 'yes') {
        setSlot(store, key, keyword, items, origin);
        return;
      }
      break;
    case 'persourcepenalties': {
      // Each field keeps its first value; a field newly set turns penalties on, whatever a
      // `no` said before; `yes`/`no` count only while nothing decided (servconf.c, 9.8 to 10.x).
      const merged: Record<string, string | number | undefined> = { ...(existing?.records[0] ?? {}) };
      let changed = false;
      for (const [field, value] of Object.entries(fields ?? {})) {
        if (field === 'enabled' || merged[field] !== undefined) continue;
        merged[field] = value;
        merged['enabled'] = 'yes';
        changed = true;
      }
      if (fields?.['enabled'] !== undefined && merged['enabled'] === undefined) {
        merged['enabled'] = fields['enabled'];
        changed = true;
      }
      if (!changed && existing) return;
      store.set(key, { keyword, items: [...(existing?.items ?? []), ...items], origins: [...(existing?.origins ?? []), origin], records: [merged] });
      return;
    }
    case 'rekeylimit': {
      const bytesKey = 'rekeylimit.bytes';
      const intervalKey = 'rekeylimit.interval';
      if (!store.has(bytesKey)) setSlot(store, bytesKey, keyword, [String(fields?.bytes ?? 0)], origin);
      if (fields?.interval !== undefined && !store.has(intervalKey)) {
        setSlot(store, intervalKey, keyword, [String(fields.interval)], origin);
      }
      return;
    }
    case 'subsystem': {
      const name = fields?.name;
      if (existing?.records.some((r) => r.name === name)) {
        report(state, path, line, { severity: 'error', code: 'duplicate-subsystem', message: `Subsystem '${String(name)}' already defined` });
        return;
      }
      break;
    }
  }
  switch (keyword.combine) {
    case 'first':
    case 'first-line':
      if (!existing) setSlot(store, key, keyword, items, origin, fields);
      return;
    case 'last':
      setSlot(store, key, keyword, items, origin, fields);
      return;
    case 'accumulate':
      if (!existing) setSlot(store, key, keyword, items, origin, fields);
      else {
        existing.items.push(...items);
        existing.origins.push(origin);
        if (fields) existing.records.push(fields);
      }
      return;
  }
}

function walkFile(state: WalkState, path: string, depth: number, flags: FileFlags, active: { value: boolean }, from?: { path: string; line: ConfigLine }): void {
  if (depth > SSHD_MAX_INCLUDE_DEPTH) {
    if (from) report(state, from.path, from.line, { severity: 'error', code: 'include-depth', message: 'too many recursive configuration includes' });
    return;
  }
  const file = state.tree.files.get(path);
  if (!file) return;
  for (const line of file.lines) {
    if (line.kind !== 'directive') continue;
    processLine(state, path, line, depth, flags, active);
  }
}

function processLine(state: WalkState, path: string, line: ConfigLine, depth: number, flags: FileFlags, active: { value: boolean }): void {
  const written = line.keyword ?? '';
  if (line.problem === 'missing-argument') {
    report(state, path, line, { severity: 'error', code: 'missing-value', message: `no argument after keyword "${written}"` });
    return;
  }
  const keyword = line.problem === 'quoted-keyword' ? undefined : lookupSshdKeyword(written, state.version);
  if (!keyword) {
    const suggestion = suggestSshdKeyword(written);
    report(state, path, line, {
      severity: 'error',
      code: 'unknown-keyword',
      message: `bad configuration option: ${written}`,
      ...(suggestion ? { hint: `did you mean "${suggestion}"?` } : {}),
    });
    return;
  }
  if (line.problem === 'unbalanced-quotes') {
    report(state, path, line, { severity: 'error', code: 'unbalanced-quotes', message: `invalid quotes in ${keyword.name} line` });
    return;
  }
  if (!active.value && !keyword.matchAllowed) {
    if (!state.matchPass) {
      report(state, path, line, {
        severity: 'error',
        code: 'not-allowed-in-match',
        message: `Directive '${written}' is not allowed within a Match block`,
        hint: `move ${keyword.name} before the first Match line (it applies to every connection)`,
      });
    }
    return;
  }
  const origin = { path, line: line.line };
  const args = (line.args ?? []).map((a) => a.value);

  if (keyword.value === 'include') {
    const saved = active.value;
    for (const target of state.tree.includes.get(includeKey(path, line.line)) ?? []) {
      if (target.unresolved) {
        report(state, path, line, {
          severity: 'warning',
          code: 'unresolved-include',
          message: `Include ${target.pattern}: the files it names were not gathered`,
        });
      }
      for (const f of target.files) {
        const childFlags: FileFlags = flags.matchOnly ? { matchOnly: true, neverMatch: false } : { matchOnly: false, neverMatch: !saved };
        walkFile(state, f, depth + 1, childFlags, active, { path, line });
        active.value = saved;
      }
    }
    return;
  }
  if (keyword.value === 'match') {
    const parsed = parseMatchCriteria(line.rest ?? '', state.version);
    if ('problem' in parsed) {
      report(state, path, line, { severity: 'error', code: 'bad-match', message: parsed.problem.message, ...(parsed.problem.hint ? { hint: parsed.problem.hint } : {}) });
      active.value = false;
      flags.matchOnly = false;
      return;
    }
    const outcome = evaluateMatch(parsed.criteria, flags.neverMatch ? undefined : state.connection, {
      version: state.version,
      ...(state.release !== undefined ? { release: state.release } : {}),
    });
    if (outcome.missing) {
      report(state, path, line, {
        severity: 'warning',
        code: 'match-test-incomplete',
        message:
          outcome.missing === 'lport'
            ? `'Match LocalPort' needs a local port in the connection (sshd -T -C lport=...)`
            : `'Match Version' needs the sshd build's release string (what sshd -V prints before the comma): taken as not matching`,
      });
    }
    active.value = flags.neverMatch ? false : outcome.matches;
    flags.matchOnly = false;
    return;
  }
  if (keyword.ignored) {
    report(state, path, line, { severity: 'warning', code: 'deprecated-keyword', message: `${written} is deprecated or unsupported; sshd ignores it` });
    return;
  }
  const parsed = parseSshdArguments(keyword, args, line.rest ?? '', state.valueContext);
  if ('problem' in parsed) {
    report(state, path, line, { severity: 'error', code: parsed.problem.code, message: parsed.problem.message, ...(parsed.problem.hint ? { hint: parsed.problem.hint } : {}) });
    return;
  }
  if (
    keyword.dumpName === 'authenticationmethods' &&
    parsed.items[0] === 'any' &&
    (state.store.get('authenticationmethods')?.items.length ?? 0) > 0 &&
    compareVersions(state.version, '9.7') < 0
  ) {
    // Up to 9.6 sshd checks this against the methods already applied, even on an inactive line (9.7 checks the line alone).
    report(state, path, line, { severity: 'error', code: 'invalid-auth-methods', message: '"any" must appear alone in AuthenticationMethods' });
    return;
  }
  if (!active.value) return;
  apply(state, keyword, parsed.items, parsed.fields, origin, path, line);
}

function runPass(
  tree: SshdConfigTree,
  matchPass: boolean,
  options: EvaluateSshdOptions,
  build: { version: string; release: string | undefined },
  valueContext: SshdValueContext,
  diagnostics: Diagnostic[] | undefined,
): Store {
  const state: WalkState = {
    tree,
    store: new Map(),
    connection: matchPass ? (options.connection ?? {}) : undefined,
    matchPass,
    version: build.version,
    release: build.release,
    valueContext,
    diagnostics,
  };
  walkFile(state, tree.mainPath, 0, { matchOnly: matchPass, neverMatch: false }, { value: !matchPass });
  return state.store;
}

/** The keyword that enables each authentication method (auth2.c's method table). */
const METHOD_ENABLED_BY: Readonly<Record<string, string>> = {
  publickey: 'pubkeyauthentication',
  password: 'passwordauthentication',
  'keyboard-interactive': 'kbdinteractiveauthentication',
  hostbased: 'hostbasedauthentication',
  'gssapi-with-mic': 'gssapiauthentication',
};

/**
 * sshd.c refuses to start, `-T` included, when no AuthenticationMethods list of the first pass
 * has all its methods enabled ("AuthenticationMethods cannot be satisfied by enabled
 * authentication methods"; Match blocks are not considered).
 */
function checkAuthMethodsSatisfiable(tree: SshdConfigTree, store: Store, defaults: SshdDefaults, diagnostics: Diagnostic[]): void {
  const slot = store.get('authenticationmethods');
  if (!slot || slot.items.length === 0) return;
  const enabled = (method: string): boolean => {
    const key = METHOD_ENABLED_BY[method.split(':')[0]!];
    if (key === undefined) return true;
    return (store.get(key)?.items[0] ?? defaults.values.get(key)?.[0]) === 'yes';
  };
  if (slot.items.some((list) => list.split(',').every(enabled))) return;
  const origin = slot.origins[0]!;
  const line = tree.files.get(origin.path)?.lines.find((l) => l.line === origin.line);
  if (!line) return;
  const disabled = [...new Set(slot.items.flatMap((list) => list.split(',').filter((m) => !enabled(m))))];
  diagnostics.push({
    severity: 'error',
    code: 'auth-methods-unsatisfiable',
    message: 'AuthenticationMethods cannot be satisfied by enabled authentication methods',
    hint: `every list names a disabled method (${disabled.join(', ')}): enable it or change AuthenticationMethods`,
    file: origin.path,
    range: lineRange(line),
  });
}

/** Appends names of `b` not already in `a` (OpenSSH's kex_names_cat). */
function catNames(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const n of b) if (n !== '' && !out.includes(n)) out.push(n);
  return out;
}

/**
 * Expanded algorithm lists, per build's lists and spec: every evaluation of a tree expands the
 * same few specs (the crypto-policies file of RHEL names dozens of patterns) against the same
 * lists, and a fleet shares its builds.
 */
const assembled = new WeakMap<AlgorithmLists, Map<string, readonly string[]>>();
const ASSEMBLED_PER_LISTS_LIMIT = 256;

/** Expands a configured algorithm list (`+x`, `-x`, `^x`, patterns) against the build's lists. */
export function assembleAlgorithms(spec: string | undefined, lists: AlgorithmLists): string[] {
  if (spec === undefined || spec === '') return [...lists.default];
  let perLists = assembled.get(lists);
  if (!perLists) {
    perLists = new Map();
    assembled.set(lists, perLists);
  }
  let out = perLists.get(spec);
  if (!out) {
    out = expandAlgorithms(spec, lists);
    remember(perLists, spec, out, ASSEMBLED_PER_LISTS_LIMIT);
  }
  return [...out];
}

function expandAlgorithms(spec: string, lists: AlgorithmLists): string[] {
  const body = spec.slice(1);
  if (spec.startsWith('-')) return lists.default.filter((n) => matchPatternList(n, body) !== 1);
  const wanted = spec.startsWith('+') ? catNames(lists.default, body.split(',')) : spec.startsWith('^') ? catNames(body.split(','), lists.default) : spec.split(',');
  let out: string[] = [];
  for (const pattern of wanted) {
    const matching = lists.all.filter((n) => matchPatternList(n, pattern) === 1);
    out = catNames(out, matching);
  }
  return out;
}

/** Adds to a bounded cache, forgetting the oldest entry when it is full. */
function remember<K, V>(cache: Map<K, V>, key: K, value: V, limit: number): void {
  if (cache.size >= limit) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}

const ONE_LINE = new Set(['authorizedkeysfile', 'authenticationmethods', 'logverbose', 'channeltimeout', 'permitopen', 'permitlisten', 'pubkeyauthoptions', 'ipqos']);

function listenAddresses(slot: Slot | undefined, ports: readonly string[], family: string): { values: string[]; exact: boolean } {
  const format = (host: string, v6: boolean, port: string): string => (v6 ? `[${host}]:${port}` : `${host}:${port}`);
  if (!slot) {
    const out: string[] = [];
    for (const p of ports) {
      if (family !== 'inet') out.push(format('::', true, p));
      if (family !== 'inet6') out.push(format('0.0.0.0', false, p));
    }
    return { values: out, exact: true };
  }
  const out: string[] = [];
  let exact = true;
  for (const r of slot.records) {
    const host = String(r.host);
    if (r.numeric === 'no') exact = false;
    for (const p of r.port !== undefined ? [String(r.port)] : ports) out.push(format(host, r.numeric === 'v6', p));
  }
  return { values: out, exact };
}

function finalValue(keyword: SshdKeyword, store: Store, defaults: SshdDefaults, version: string): { values: string[]; exact?: boolean } {
  const d = keyword.dumpName;
  const slot = store.get(d);
  const fallback = (): string[] => [...(defaults.values.get(d) ?? [])];
  if (keyword.value === 'algorithms' && keyword.algorithmFamily && keyword.algorithmFamily !== 'gss-kex') {
    return { values: [assembleAlgorithms(slot?.items[0], defaults.algorithms[keyword.algorithmFamily]).join(',')] };
  }
  switch (d) {
    case 'port':
      return { values: slot ? [...slot.items] : ['22'] };
    case 'listenaddress': {
      const ports = store.get('port')?.items ?? ['22'];
      const family = store.get('addressfamily')?.items[0] ?? defaults.values.get('addressfamily')?.[0] ?? 'any';
      return listenAddresses(slot, ports, family);
    }
    case 'hostkey':
      return { values: slot ? [...slot.items] : [...defaults.hostKeys] };
    case 'maxstartups': {
      if (!slot) return { values: fallback() };
      const r = slot.records[0] ?? {};
      return { values: [`${String(r.begin)}:${String(r.rate ?? 30)}:${String(r.full)}`] };
    }
    case 'persourcepenalties':
      return { values: [penaltiesLine(slot?.records[0] ?? {}, defaults, version)] };
    case 'rekeylimit': {
      const bytes = store.get('rekeylimit.bytes')?.items[0] ?? '0';
      const interval = store.get('rekeylimit.interval')?.items[0] ?? '0';
      return { values: [`${bytes} ${interval}`] };
    }
  }
  if (!slot) return { values: fallback() };
  if (ONE_LINE.has(d)) return { values: [slot.items.join(' ')] };
  if (keyword.combine === 'accumulate' || d === 'setenv') return { values: [...slot.items] };
  return { values: [slot.items[0] ?? ''] };
}

/**
 * servconf.c's fill_default_server_options for PerSourcePenalties, per release: 9.8 waits 20s
 * after an exceeded LoginGraceTime and has no refuseconnection field; 9.9 and 10.x wait 10s.
 */
function builtInPenalties(version: string): Record<string, string | number> {
  const base = { crash: 90, authfail: 5, noauth: 1, 'grace-exceeded': 10, refuseconnection: 10, max: 600, min: 15, 'max-sources4': 65536, 'max-sources6': 65536, overflow: 'permissive' };
  if (compareVersions(version, '9.9') >= 0) return base;
  const { refuseconnection: _dropped, ...older } = base;
  return { ...older, 'grace-exceeded': 20 };
}

/** The order `sshd -T` prints the fields in (dump_config), refuseconnection from 9.9 on. */
const PENALTY_FIELDS = ['crash', 'authfail', 'noauth', 'grace-exceeded', 'refuseconnection', 'max', 'min', 'max-sources4', 'max-sources6', 'overflow', 'overflow6'] as const;

/**
 * What `sshd -T` prints for PerSourcePenalties: `no`, or every field, the unset ones from the
 * build's defaults (its own empty-config dump when the caller has it, else the release's
 * built-in values). `overflow6` follows `overflow` unless set itself.
 */
function penaltiesLine(record: Readonly<Record<string, string | number | undefined>>, defaults: SshdDefaults, version: string): string {
  const printed = defaults.values.get('persourcepenalties')?.[0];
  const dumped = new Map<string, string>();
  for (const word of printed?.split(' ') ?? []) {
    const colon = word.indexOf(':');
    if (colon > 0) dumped.set(word.slice(0, colon), word.slice(colon + 1));
  }
  const builtIn = builtInPenalties(version);
  const enabled = record['enabled'] ?? (printed === 'no' ? 'no' : 'yes');
  if (enabled === 'no') return 'no';
  const value = (field: string): string | number | undefined => record[field] ?? dumped.get(field) ?? builtIn[field];
  return PENALTY_FIELDS.filter((f) => f === 'overflow6' || builtIn[f] !== undefined)
    .map((f) => `${f}:${String(f === 'overflow6' ? (record['overflow6'] ?? record['overflow'] ?? dumped.get('overflow6') ?? value('overflow')) : value(f))}`)
    .join(' ');
}

function slotSources(keyword: SshdKeyword, store: Store): ConfigOrigin[] {
  if (keyword.dumpName === 'rekeylimit') {
    return [...(store.get('rekeylimit.bytes')?.origins ?? []), ...(store.get('rekeylimit.interval')?.origins ?? [])];
  }
  return store.get(keyword.dumpName)?.origins ?? [];
}

/** Computes the effective configuration of a tree: what `sshd -T` prints, with sources. */
export function evaluateSshdConfig(tree: SshdConfigTree, options: EvaluateSshdOptions = {}): EffectiveSshdConfig {
  const defaults = options.defaults ?? DEBIAN_12_DEFAULTS;
  const version = options.version ?? defaults.version ?? DEFAULT_OPENSSH_VERSION;
  const valueContext: SshdValueContext = {
    version,
    cwd: options.cwd ?? '/',
    home: options.home ?? '/root',
    knownAlgorithms: Object.fromEntries(Object.entries(defaults.algorithms).map(([k, v]) => [k, v.all])),
    tosIgnored: legacyTosIgnored(defaults, version),
  };
  const diagnostics: Diagnostic[] = [];
  const build = { version, release: options.release ?? defaults.release };
  const store = runPass(tree, false, options, build, valueContext, diagnostics);
  // After the first pass sshd drops a lone `ChannelTimeout none` / `AuthenticationMethods any`.
  for (const [key, lone] of [['channeltimeout', 'none'], ['authenticationmethods', 'any']] as const) {
    const items = store.get(key)?.items;
    if (items?.length === 1 && items[0]!.toLowerCase() === lone) store.delete(key);
  }
  checkAuthMethodsSatisfiable(tree, store, defaults, diagnostics);
  const matchDiagnostics: Diagnostic[] = [];
  const matched = runPass(tree, true, options, build, valueContext, matchDiagnostics);
  // The match pass re-reads the same lines: keep only what the first pass did not already say.
  const said = new Set(diagnostics.map((d) => `${d.code}\n${d.file ?? ''}\n${d.range?.start.line ?? 0}`));
  diagnostics.push(...matchDiagnostics.filter((d) => !said.has(`${d.code}\n${d.file ?? ''}\n${d.range?.start.line ?? 0}`)));
  // The match pass only overrides keywords allowed in Match, each as a whole.
  for (const [key, slot] of matched) {
    const kw = lookupSshdKeyword(slot.keyword.name, version);
    if (kw?.matchAllowed) store.set(key, slot);
  }
  const values = new Map<string, EffectiveSshdValue>();
  const dump: string[] = [];
  for (const keyword of printOrder(version)) {
    const final = keyword.printed ? finalValue(keyword, store, defaults, version) : { values: [...(store.get(keyword.dumpName)?.items ?? [])] };
    const sources = slotSources(keyword, store);
    const v: EffectiveSshdValue = { dumpName: keyword.dumpName, values: final.values, sources, exact: final.exact ?? true };
    if (sources[0]) v.source = sources[0];
    values.set(keyword.dumpName, v);
    if (keyword.printed) for (const line of final.values) dump.push(`${keyword.dumpName} ${line}`);
  }
  return { values, dump, diagnostics };
}

/** The keywords each version knows, one per dump name, in `sshd -T` order: every evaluation walks them. */
const printOrders = new Map<string, readonly SshdKeyword[]>();
const PRINT_ORDERS_LIMIT = 64;

function printOrder(version: string): readonly SshdKeyword[] {
  let order = printOrders.get(version);
  if (!order) {
    const seen = new Set<string>();
    const list: SshdKeyword[] = [];
    for (const base of SSHD_KEYWORDS) {
      const keyword = lookupSshdKeyword(base.name, version);
      if (!keyword || seen.has(keyword.dumpName)) continue;
      seen.add(keyword.dumpName);
      list.push(keyword);
    }
    order = list;
    remember(printOrders, version, order, PRINT_ORDERS_LIMIT);
  }
  return order;
}

/**
 * Evaluations per tree, then per everything else that decides the result (connection, defaults
 * by identity, version, paths): planning asks about the same tree many times (each edit, each
 * expectation, each assert). Trees and defaults are immutable, so a result stays valid.
 */
const evaluations = new WeakMap<SshdConfigTree, Map<string, EffectiveSshdConfig>>();
/** Evaluations kept per tree: a tree is asked about a handful of connections, not thousands. */
const EVALUATIONS_PER_TREE_LIMIT = 64;
const defaultsIds = new WeakMap<SshdDefaults, number>();
let nextDefaultsId = 0;

function evaluationKey(options: EvaluateSshdOptions): string {
  const defaults = options.defaults ?? DEBIAN_12_DEFAULTS;
  let id = defaultsIds.get(defaults);
  if (id === undefined) {
    id = nextDefaultsId++;
    defaultsIds.set(defaults, id);
  }
  const version = options.version ?? defaults.version ?? DEFAULT_OPENSSH_VERSION;
  return [id, version, options.release ?? '', options.cwd ?? '/', options.home ?? '/root', JSON.stringify(options.connection ?? null)].join('\0');
}

/**
 * `evaluateSshdConfig`, computed once per tree and options and then shared: callers must treat
 * the result as read-only.
 */
export function evaluateSshdConfigShared(tree: SshdConfigTree, options: EvaluateSshdOptions = {}): EffectiveSshdConfig {
  let perTree = evaluations.get(tree);
  if (!perTree) {
    perTree = new Map();
    evaluations.set(tree, perTree);
  }
  const key = evaluationKey(options);
  let result = perTree.get(key);
  if (!result) {
    result = evaluateSshdConfig(tree, options);
    remember(perTree, key, result, EVALUATIONS_PER_TREE_LIMIT);
  }
  return result;
}

/**
 * The effective value of one keyword (any spelling), as `sshd -T [-C ...]` prints it, and the
 * line it comes from. Unknown keywords give no values.
 */
export function effectiveValue(
  tree: SshdConfigTree,
  keyword: string,
  connection?: MatchConnection,
  options: Omit<EvaluateSshdOptions, 'connection'> = {},
): EffectiveSshdValue {
  const version = options.version ?? options.defaults?.version ?? DEFAULT_OPENSSH_VERSION;
  const kw = lookupSshdKeyword(keyword, version);
  if (!kw) return { dumpName: keyword.toLowerCase(), values: [], sources: [], exact: true };
  const result = evaluateSshdConfigShared(tree, connection ? { ...options, connection } : options);
  const value = result.values.get(kw.dumpName);
  if (!value) return { dumpName: kw.dumpName, values: [], sources: [], exact: true };
  // A copy: the evaluation is shared with every other caller.
  return { ...value, values: [...value.values], sources: [...value.sources] };
}
