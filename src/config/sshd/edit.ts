/**
 * Minimal, idempotent edits of an sshd config tree. Policy (see EDIT-POLICY.md):
 * - change the occurrence that wins, in the file where it lives (main file or drop-in);
 * - when the keyword is absent, add one line where it applies: in the main file after its commented
 *   default (`#MaxStartups 10:30:100`), else before the first Match block and before a trailing
 *   commented `#Match` example (or inside the requested Match block, created at the end of the main
 *   file);
 * - leave exactly one applying occurrence: others are commented out with a note, never deleted;
 * - touch no other line, keep comments and line endings; running the same edit twice changes
 *   nothing the second time, and a no-op says why.
 * Pure: takes a tree, returns the new contents of the files it changes.
 */
import { hasErrors, type Diagnostic } from '../../util/diagnostics.js';
import { lexLine, linesToText, quoteArgument, splitArguments, type ConfigLine } from '../openssh/lexer.js';
import type { SshdDefaults } from './defaults.js';
import { listSshdDirectives, type SshdDirective, type SshdMatchBlock } from './directives.js';
import { assembleAlgorithms, evaluateSshdConfigShared } from './effective.js';
import { DEFAULT_OPENSSH_VERSION, lookupSshdKeyword, suggestSshdKeyword, type SshdKeyword } from './keywords.js';
import { formatMatchCriteria, parseMatchCriteria, sameMatchCriteria, type MatchCriterion } from './match.js';
import { findMatchShadow, includedFromMatch, type MatchShadow } from './shadow.js';
import { buildSshdConfigTree, type SshdConfigTree } from './tree.js';
import { parseSshdValue, type SshdValueContext } from './values.js';
import { DEBIAN_12_DEFAULTS } from './defaults.js';

/** One requested change. `match` scopes it to a `Match` block ("Address 192.0.2.0/24"). */
export type SshdEdit =
  | { op: 'set'; keyword: string; value: string; match?: string }
  | { op: 'unset'; keyword: string; match?: string }
  | { op: 'add'; keyword: string; values: readonly string[]; match?: string }
  | { op: 'remove'; keyword: string; values: readonly string[]; match?: string };

/** A changed file: its whole text before and after. */
export interface SshdFileChange {
  path: string;
  before: string;
  after: string;
}

export interface SshdEditResult {
  changes: SshdFileChange[];
  /** Why nothing changed (set when `changes` is empty and there is no error). */
  reason?: string;
  /** Refusals (errors: nothing was changed) and warnings about the result. */
  diagnostics: Diagnostic[];
  /** The tree after the edit (the input tree when nothing changed or on refusal). */
  tree: SshdConfigTree;
}

export interface SshdEditOptions {
  version?: string;
  defaults?: SshdDefaults;
  /** Algorithm names the host knows (from `ssh -Q`); the defaults' lists when absent. */
  knownAlgorithms?: SshdValueContext['knownAlgorithms'];
}

/** Marker appended to lines sshfix comments out, so a person can see why. */
export const DISABLED_NOTE = 'disabled by sshfix:';

interface FileEdit {
  replace: Map<number, string>; // 1-based line -> new text (without ending)
  insertBefore: Map<number, string[]>; // 1-based line (length+1 = at end) -> new lines
}

class EditBuffer {
  readonly files = new Map<string, FileEdit>();
  private get(path: string): FileEdit {
    let f = this.files.get(path);
    if (!f) {
      f = { replace: new Map(), insertBefore: new Map() };
      this.files.set(path, f);
    }
    return f;
  }
  replace(path: string, line: number, text: string): void {
    this.get(path).replace.set(line, text);
  }
  insert(path: string, beforeLine: number, text: string): void {
    const f = this.get(path);
    const list = f.insertBefore.get(beforeLine) ?? [];
    list.push(text);
    f.insertBefore.set(beforeLine, list);
  }
}

const refuse = (tree: SshdConfigTree, code: string, message: string, hint?: string): SshdEditResult => ({
  changes: [],
  diagnostics: [{ severity: 'error', code, message, ...(hint ? { hint } : {}) }],
  tree,
});

const where = (d: { path: string; line: ConfigLine }): string => `${d.path}:${d.line.line}`;

function eolOf(lines: readonly ConfigLine[]): '\n' | '\r\n' {
  const crlf = lines.filter((l) => l.eol === '\r\n').length;
  return crlf > lines.length / 2 ? '\r\n' : '\n';
}

/** The line with its value replaced, keeping indentation, keyword spelling, separator and comment. */
function rewriteValue(line: ConfigLine, value: string): string {
  const start = line.restStart ?? line.text.length;
  const args = line.args ?? [];
  const lastEnd = args.length ? args[args.length - 1]!.end : start;
  const tail = line.commentStart !== undefined ? line.text.slice(lastEnd) : '';
  return `${line.text.slice(0, start)}${value}${tail}`;
}

/** The line commented out, indentation kept, with the reason. */
function commentOut(line: ConfigLine, reason: string): string {
  const indent = /^[ \t]*/.exec(line.text)![0];
  return `${indent}#${line.text.slice(indent.length).replace(/[ \t\r\f]+$/, '')} # ${DISABLED_NOTE} ${reason}`;
}

function formatLine(keyword: SshdKeyword, value: string, indent = ''): string {
  return `${indent}${keyword.name} ${value}`;
}

/** What `commentedDirective` found for each comment line (null: prose). */
const commentedDirectives = new WeakMap<ConfigLine, ConfigLine | null>();

/**
 * The directive a comment line would be without its `#` (`#MaxStartups 10:30:100`, `# Port = 22`),
 * or undefined for prose. Stock files list every default this way.
 */
function commentedDirective(line: ConfigLine): ConfigLine | undefined {
  if (line.kind !== 'comment') return undefined;
  // Every edit looks through the comments of the main file; lines are shared between trees.
  const known = commentedDirectives.get(line);
  if (known !== undefined) return known ?? undefined;
  const lead = /^[ \t\r]*#[ \t]*/.exec(line.text);
  const lexed = lead ? lexLine(line.text.slice(lead[0].length), line.line, line.eol) : undefined;
  const directive = lexed?.kind === 'directive' && !lexed.problem ? lexed : undefined;
  commentedDirectives.set(line, directive ?? null);
  return directive;
}

/** True when `line` is a commented-out setting of `keyword` with a value sshd would accept. */
function isCommentedDefault(line: ConfigLine, keyword: SshdKeyword, ctx: SshdValueContext): boolean {
  const d = commentedDirective(line);
  if (!d || lookupSshdKeyword(d.keyword ?? '', ctx.version)?.name !== keyword.name) return false;
  // Headings such as "# Ciphers and keying" read as a keyword too; a real default has a valid value.
  return 'items' in parseSshdValue(keyword, d.rest ?? '', ctx);
}

/** True when `line` is a commented-out `Match` line: the start of an example block. */
function isCommentedMatch(line: ConfigLine): boolean {
  const d = commentedDirective(line);
  return d?.keyword?.toLowerCase() === 'match' && 'criteria' in parseMatchCriteria(d.rest ?? '');
}

/**
 * Where a new global line goes in the main file (the keyword is set nowhere for all connections):
 * right after the commented default for the keyword when the global part has one outside a
 * commented `#Match` example; otherwise before the first Match block, or at the end, and before
 * the lead-in comments of that block or of a trailing commented example block.
 */
function globalInsertionPoint(tree: SshdConfigTree, keyword: SshdKeyword, ctx: SshdValueContext): number {
  const lines = tree.files.get(tree.mainPath)!.lines;
  const firstMatch = lines.find((l) => l.kind === 'directive' && l.keyword?.toLowerCase() === 'match');
  const globalEnd = firstMatch ? firstMatch.line : lines.length + 1;
  // A commented example runs from its `#Match` line to the next active directive.
  let exampleStart: number | undefined;
  let commented: number | undefined;
  for (let n = 1; n < globalEnd; n++) {
    const l = lines[n - 1]!;
    if (l.kind === 'directive') exampleStart = undefined;
    else if (isCommentedMatch(l)) exampleStart ??= n;
    else if (exampleStart === undefined && commented === undefined && isCommentedDefault(l, keyword, ctx)) commented = n;
  }
  if (commented !== undefined) {
    // After the whole run (`#ListenAddress 0.0.0.0` then `#ListenAddress ::`), not inside it.
    let at = commented + 1;
    while (at < globalEnd && isCommentedDefault(lines[at - 1]!, keyword, ctx)) at++;
    return at;
  }
  let at = globalEnd;
  if (!firstMatch) {
    // At the end, but before a trailing run of blank lines so the file keeps its shape.
    while (at > 1 && lines[at - 2]!.kind === 'blank' && lines[at - 2]!.eol !== '') at--;
  }
  if (exampleStart !== undefined) at = exampleStart;
  if (firstMatch || exampleStart !== undefined) {
    while (at > 1 && lines[at - 2]!.kind === 'comment') at--;
  }
  return at;
}

/** The block's last directive line, to add a line after it (inside the block). */
function blockInsertionPoint(tree: SshdConfigTree, block: SshdMatchBlock): { before: number; indent: string } {
  const lines = tree.files.get(block.path)!.lines;
  let last = block.line.line;
  let indent = '\t';
  let sawIndent = false;
  for (let n = block.line.line + 1; n <= block.endLine; n++) {
    const l = lines[n - 1]!;
    if (l.kind === 'directive') {
      last = n;
      if (!sawIndent) {
        indent = /^[ \t]*/.exec(l.text)![0];
        sawIndent = true;
      }
    }
  }
  return { before: last + 1, indent };
}

function valueContext(options: SshdEditOptions): SshdValueContext {
  const defaults = options.defaults ?? DEBIAN_12_DEFAULTS;
  return {
    version: options.version ?? defaults.version,
    knownAlgorithms: options.knownAlgorithms ?? Object.fromEntries(Object.entries(defaults.algorithms).map(([k, v]) => [k, v.all])),
  };
}

/** Normalised values of a line for `keyword`, or undefined if the line does not parse. */
function lineItems(keyword: SshdKeyword, line: ConfigLine, ctx: SshdValueContext): string[] | undefined {
  const r = parseSshdValue(keyword, line.rest ?? '', ctx);
  return 'items' in r ? r.items : undefined;
}

function applyBuffer(tree: SshdConfigTree, buffer: EditBuffer): SshdFileChange[] {
  const changes: SshdFileChange[] = [];
  for (const [path, edit] of buffer.files) {
    const file = tree.files.get(path)!;
    const before = linesToText(file.lines);
    const eol = eolOf(file.lines);
    const out: ConfigLine[] = [];
    const push = (text: string): void => {
      // A file without a final newline gets one before anything is added after its last line.
      const prev = out[out.length - 1];
      if (prev && prev.eol === '') out[out.length - 1] = { ...prev, eol };
      out.push(lexLine(text, out.length + 1, eol));
    };
    file.lines.forEach((l, i) => {
      for (const t of edit.insertBefore.get(i + 1) ?? []) push(t);
      const replaced = edit.replace.get(i + 1);
      out.push(replaced === undefined ? l : { ...lexLine(replaced, l.line, l.eol) });
    });
    for (const t of edit.insertBefore.get(file.lines.length + 1) ?? []) push(t);
    const after = linesToText(out);
    if (after !== before) changes.push({ path, before, after });
  }
  return changes;
}

function rebuild(tree: SshdConfigTree, changes: readonly SshdFileChange[]): SshdConfigTree {
  if (changes.length === 0) return tree;
  const files = new Map(tree.snapshot.files);
  for (const c of changes) files.set(c.path, c.after);
  return buildSshdConfigTree({ files, listedDirs: tree.snapshot.listedDirs }, tree.mainPath).tree;
}

/** Occurrences of `keyword` (any spelling) that apply in the chosen scope, in reading order. */
function occurrences(directives: readonly SshdDirective[], keyword: SshdKeyword, scope: SshdMatchBlock[] | 'global'): SshdDirective[] {
  return directives.filter((d) => {
    if (d.keyword?.name !== keyword.name || d.line.problem) return false;
    if (scope === 'global') return d.global;
    return d.block !== undefined && scope.includes(d.block);
  });
}

interface Scope {
  criteria?: MatchCriterion[];
  blocks: SshdMatchBlock[] | 'global';
  label: string;
}

function resolveScope(blocks: readonly SshdMatchBlock[], match: string | undefined): Scope | { problem: string } {
  if (match === undefined) return { blocks: 'global', label: 'for all connections' };
  const parsed = parseMatchCriteria(match);
  if ('problem' in parsed) return { problem: parsed.problem.message };
  const same = blocks.filter((b) => b.criteria && sameMatchCriteria(b.criteria, parsed.criteria));
  return { criteria: parsed.criteria, blocks: same, label: `in Match ${formatMatchCriteria(parsed.criteria)}` };
}

/**
 * Plans one edit. Refusals come back as error diagnostics with nothing changed: unknown keyword
 * (with a suggestion), keyword not allowed in Match, malformed value, unknown algorithm.
 */
/**
 * A value as a no-op reason shows it: a long comma list (an algorithm list is often 600
 * characters) as its first entries and a count, so the reason stays one readable line.
 */
export function reasonValue(words: readonly string[]): string {
  const text = words.join(' ');
  const items = text.split(',');
  if (text.length <= 100 || items.length < 4) return text;
  return `${items.slice(0, 2).join(',')},... (${items.length} in all)`;
}

export function editSshdConfig(tree: SshdConfigTree, edit: SshdEdit, options: SshdEditOptions = {}): SshdEditResult {
  const version = options.version ?? options.defaults?.version ?? DEFAULT_OPENSSH_VERSION;
  const keyword = lookupSshdKeyword(edit.keyword, version);
  if (!keyword || keyword.value === 'include' || keyword.value === 'match') {
    const suggestion = suggestSshdKeyword(edit.keyword);
    return refuse(tree, 'unknown-keyword', `unknown sshd keyword "${edit.keyword}"`, suggestion ? `did you mean "${suggestion}"?` : undefined);
  }
  if (keyword.ignored) return refuse(tree, 'deprecated-keyword', `${keyword.name} is deprecated: sshd ignores it`);
  if (edit.match !== undefined && !keyword.matchAllowed) {
    return refuse(
      tree,
      'not-allowed-in-match',
      `${keyword.name} is not allowed inside Match (sshd refuses to start)`,
      `set ${keyword.name} globally instead, without "match"`,
    );
  }
  if ((edit.op === 'add' || edit.op === 'remove') && !(keyword.list || keyword.value === 'algorithms')) {
    return refuse(tree, 'not-a-list', `${keyword.name} holds a single value: use set or unset, not ${edit.op}`);
  }
  const ctx = valueContext({ ...options, version });
  const { directives, blocks } = listSshdDirectives(tree, version);
  const scope = resolveScope(blocks, edit.match);
  if ('problem' in scope) return refuse(tree, 'bad-match', `bad Match criteria "${edit.match ?? ''}": ${scope.problem}`);

  let planned: Plan;
  switch (edit.op) {
    case 'set': {
      const parsed = parseSshdValue(keyword, edit.value, ctx);
      if ('problem' in parsed) return refuse(tree, parsed.problem.code, parsed.problem.message, parsed.problem.hint);
      planned = planSet(tree, keyword, edit.value.trim(), directives, scope, ctx, options);
      if (firstWins(keyword) && !hasErrors(planned.warnings)) planned = placeAgainstShadow(tree, keyword, edit.value.trim(), directives, scope, planned, ctx, { ...options, version });
      break;
    }
    case 'unset':
      planned = planUnset(keyword, directives, scope);
      break;
    case 'add':
    case 'remove': {
      for (const v of edit.values) {
        const parsed = parseSshdValue(keyword, keyword.value === 'algorithms' ? v : quoteArgument(v), ctx);
        if ('problem' in parsed) return refuse(tree, parsed.problem.code, parsed.problem.message, parsed.problem.hint);
      }
      planned = planListChange(tree, keyword, edit.op, edit.values, directives, scope, ctx, options);
      if (firstWins(keyword) && !hasErrors(planned.warnings)) planned = refuseIfShadowed(tree, keyword, scope, planned, { ...options, version });
      break;
    }
  }
  if (hasErrors(planned.warnings)) return { changes: [], diagnostics: planned.warnings, tree };
  const changes = applyBuffer(tree, planned.buffer);
  const result: SshdEditResult = { changes, diagnostics: planned.warnings, tree: rebuild(tree, changes) };
  if (changes.length === 0) result.reason = planned.reason ?? `${keyword.name} already as requested ${scope.label}`;
  return result;
}

/** Applies edits in order, each on the result of the previous; one change per file in the end. */
export function editSshdConfigAll(tree: SshdConfigTree, edits: readonly SshdEdit[], options: SshdEditOptions = {}): SshdEditResult {
  const originals = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const reasons: string[] = [];
  let current = tree;
  for (const e of edits) {
    const r = editSshdConfig(current, e, options);
    diagnostics.push(...r.diagnostics);
    if (hasErrors(r.diagnostics)) return { changes: [], diagnostics, tree };
    for (const c of r.changes) if (!originals.has(c.path)) originals.set(c.path, c.before);
    if (r.reason) reasons.push(r.reason);
    current = r.tree;
  }
  const changes: SshdFileChange[] = [];
  for (const [path, before] of originals) {
    const after = current.snapshot.files.get(path)!;
    if (after !== before) changes.push({ path, before, after });
  }
  const out: SshdEditResult = { changes, diagnostics, tree: changes.length ? current : tree };
  if (changes.length === 0) out.reason = reasons.join('; ');
  return out;
}

type Plan = { buffer: EditBuffer; reason?: string; warnings: Diagnostic[] };

/** The values every connection sees for the keyword, as `sshd -T` prints them. */
function currentValues(tree: SshdConfigTree, keyword: SshdKeyword, options: SshdEditOptions): string[] {
  return evaluateSshdConfigShared(tree, options.defaults ? { defaults: options.defaults } : {}).values.get(keyword.dumpName)?.values ?? [];
}

/** What `value` would print as, for comparison with the current effective value. */
function printedFor(keyword: SshdKeyword, value: string, ctx: SshdValueContext, options: SshdEditOptions): string[] {
  const parsed = parseSshdValue(keyword, value, ctx);
  if (!('items' in parsed)) return [];
  const defaults = options.defaults ?? DEBIAN_12_DEFAULTS;
  if (keyword.value === 'algorithms' && keyword.algorithmFamily && keyword.algorithmFamily !== 'gss-kex') {
    return [assembleAlgorithms(parsed.items[0], defaults.algorithms[keyword.algorithmFamily]).join(',')];
  }
  return parsed.items;
}

function planSet(tree: SshdConfigTree, keyword: SshdKeyword, value: string, directives: SshdDirective[], scope: Scope, ctx: SshdValueContext, options: SshdEditOptions): Plan {
  const buffer = new EditBuffer();
  const warnings: Diagnostic[] = [];
  const wanted = printedFor(keyword, value, ctx, options);
  if (scope.blocks === 'global') {
    const occ = occurrences(directives, keyword, 'global');
    // The occurrence sshd uses: the first one, or the last for keywords where the last wins.
    const winner = keyword.combine === 'last' ? occ[occ.length - 1] : occ[0];
    if (!winner) {
      const current = currentValues(tree, keyword, options);
      if (sameValues(current, wanted)) {
        return { buffer, reason: `${keyword.name} is already ${reasonValue(current)} (sshd's default) for all connections`, warnings };
      }
      buffer.insert(tree.mainPath, globalInsertionPoint(tree, keyword, ctx), formatLine(keyword, value));
    } else {
      const winnerWanted = winnerMatches(keyword, winner, wanted, ctx, options);
      if (!winnerWanted) buffer.replace(winner.path, winner.line.line, rewriteValue(winner.line, value));
    }
    for (const d of occ) {
      if (d === winner) continue;
      buffer.replace(d.path, d.line.line, commentOut(d.line, winner ? `${keyword.name} is set at ${where(winner)}` : `${keyword.name} is set in ${tree.mainPath}`));
    }
    if (occ.length <= 1 && winner && winnerMatches(keyword, winner, wanted, ctx, options)) {
      return { buffer, reason: `${keyword.name} is already ${reasonValue(wanted)} at ${where(winner)}`, warnings };
    }
    const shadowing = directives.filter((d) => d.keyword?.name === keyword.name && !d.global && d.block);
    if (shadowing.length) {
      warnings.push({
        severity: 'warning',
        code: 'overridden-in-match',
        message: `${keyword.name} is also set inside Match blocks (${shadowing.map(where).join(', ')}), which override it for the connections they match`,
      });
    }
    return { buffer, warnings };
  }
  const blocks = scope.blocks;
  const occ = occurrences(directives, keyword, blocks);
  const winner = keyword.combine === 'last' ? occ[occ.length - 1] : occ[0];
  if (winner) {
    const ok = winnerMatches(keyword, winner, wanted, ctx, options);
    if (!ok) buffer.replace(winner.path, winner.line.line, rewriteValue(winner.line, value));
    for (const d of occ.filter((o) => o !== winner)) buffer.replace(d.path, d.line.line, commentOut(d.line, `${keyword.name} is set at ${where(winner)}`));
    if (ok && occ.length === 1) return { buffer, reason: `${keyword.name} is already ${reasonValue(wanted)} ${scope.label} at ${where(winner)}`, warnings };
  } else if (blocks.length > 0) {
    const block = blocks.find((b) => b.path === tree.mainPath) ?? blocks[0]!;
    const at = blockInsertionPoint(tree, block);
    buffer.insert(block.path, at.before, formatLine(keyword, value, at.indent));
  } else {
    const main = tree.files.get(tree.mainPath)!;
    const lines = main.lines;
    const lastNonBlank = [...lines].reverse().find((l) => l.kind !== 'blank');
    if (lastNonBlank) buffer.insert(tree.mainPath, lines.length + 1, '');
    buffer.insert(tree.mainPath, lines.length + 1, `Match ${formatMatchCriteria(scope.criteria ?? [])}`);
    buffer.insert(tree.mainPath, lines.length + 1, formatLine(keyword, value, '\t'));
  }
  const earlier = directives.filter((d) => d.keyword?.name === keyword.name && d.block && !(blocks as SshdMatchBlock[]).includes(d.block) && !d.global);
  if (earlier.length) {
    warnings.push({
      severity: 'warning',
      code: 'other-match-blocks',
      message: `other Match blocks also set ${keyword.name} (${earlier.map(where).join(', ')}); for a connection that matches several blocks, the first one wins`,
    });
  }
  return { buffer, warnings };
}

/** Keywords whose first value read wins (per connection, the first matching block that sets them). */
const firstWins = (keyword: SshdKeyword): boolean => keyword.combine === 'first' || keyword.combine === 'first-line';

/** The tree a plan would leave. */
const planResult = (tree: SshdConfigTree, planned: Plan): SshdConfigTree => rebuild(tree, applyBuffer(tree, planned.buffer));

const shadowOptions = (options: SshdEditOptions & { version: string }) => ({ version: options.version, ...(options.defaults ? { defaults: options.defaults } : {}) });

const describeBlock = (block: SshdMatchBlock): string => `"Match ${block.criteria ? formatMatchCriteria(block.criteria) : (block.line.rest ?? '')}" at ${block.path}:${block.line.line}`;

function shadowRefusal(keyword: SshdKeyword, scope: Scope, shadow: MatchShadow, why: string, hint: string): Plan {
  const whom = shadow.covers ? 'every connection it selects' : `some of the connections it selects (such as ${shadow.sample ?? 'one inside it'})`;
  return {
    buffer: new EditBuffer(),
    warnings: [
      {
        severity: 'error',
        code: 'match-shadowed',
        message: `${keyword.name} ${scope.label} would not take effect for ${whom}: the block ${describeBlock(shadow.block)} is read first and sets it at ${where(shadow.directive)}${why}`,
        hint,
      },
    ],
  };
}

/**
 * A Match-scoped set whose line would be shadowed by an earlier block (sshd keeps, per connection,
 * the first matching block's value): when that block covers every connection of the criteria,
 * the setting goes into a new block just before it (which changes nothing for any other
 * connection) and the requested block's own lines of the keyword, dead from then on, are
 * commented out; when the block already sets the requested value the edit is a no-op; when it
 * covers only some of the connections, or a block cannot be placed before it, the edit is refused.
 */
function placeAgainstShadow(
  tree: SshdConfigTree,
  keyword: SshdKeyword,
  value: string,
  directives: SshdDirective[],
  scope: Scope,
  planned: Plan,
  ctx: SshdValueContext,
  options: SshdEditOptions & { version: string },
): Plan {
  const criteria = scope.criteria;
  if (!criteria || scope.blocks === 'global') return planned;
  // With nothing to change, judge the tree as it is: an existing line may be shadowed as well.
  const shadow = findMatchShadow(planResult(tree, planned), keyword, criteria, shadowOptions(options));
  if (!shadow) return planned;
  if (!shadow.covers) {
    return shadowRefusal(keyword, scope, shadow, '', `sshfix does not override a block that selects only part of these connections: change that block, or narrow "match" so it does not overlap it`);
  }
  const wanted = printedFor(keyword, value, ctx, options);
  if (winnerMatches(keyword, shadow.directive, wanted, ctx, options)) {
    return { buffer: new EditBuffer(), reason: `${keyword.name} is already ${wanted.join(' ')} ${scope.label}: the block ${describeBlock(shadow.block)} is read first and sets it at ${where(shadow.directive)}`, warnings: [] };
  }
  // The same block in the tree as it is (the plan only changed lines after it).
  const block = directives.find((d) => d.block?.path === shadow.block.path && d.block.line.line === shadow.block.line.line)?.block;
  const outer = block && includedFromMatch(tree, block, options.version);
  if (!block || outer) {
    return shadowRefusal(keyword, scope, shadow, outer ? `, and no block can be placed before it: its file is read through ${where(outer)}, inside a Match block` : '', 'set the keyword in that block, or move the Include out of the Match block');
  }
  const occ = occurrences(directives, keyword, scope.blocks);
  // A block of the task's criteria read before the shadowing one (one sshfix placed for another
  // keyword, say) takes the line, rather than a second new block.
  for (const candidate of scope.blocks) {
    if (occ.some((d) => d.block === candidate)) continue;
    const point = blockInsertionPoint(tree, candidate);
    const inside = new EditBuffer();
    inside.insert(candidate.path, point.before, formatLine(keyword, value, point.indent));
    for (const d of occ) inside.replace(d.path, d.line.line, commentOut(d.line, `${keyword.name} is set at ${candidate.path}:${point.before}`));
    const plan: Plan = { buffer: inside, warnings: [] };
    if (!findMatchShadow(planResult(tree, plan), keyword, criteria, shadowOptions(options))) return plan;
  }
  const lines = tree.files.get(block.path)!.lines;
  // Before the block's lead-in comments, which belong to it.
  let at = block.line.line;
  while (at > 1 && lines[at - 2]!.kind === 'comment') at--;
  const buffer = new EditBuffer();
  const spaced = at > 1 && lines[at - 2]!.kind !== 'blank';
  if (spaced) buffer.insert(block.path, at, '');
  buffer.insert(block.path, at, `Match ${formatMatchCriteria(criteria)}`);
  buffer.insert(block.path, at, formatLine(keyword, value, blockInsertionPoint(tree, block).indent));
  buffer.insert(block.path, at, '');
  const placed = `${block.path}:${at + (spaced ? 2 : 1)}`;
  for (const d of occ) buffer.replace(d.path, d.line.line, commentOut(d.line, `${keyword.name} is set at ${placed}`));
  const relocated: Plan = {
    buffer,
    warnings: [
      {
        severity: 'warning',
        code: 'placed-before-shadowing-block',
        message: `${keyword.name} ${scope.label} goes into a new block at ${placed}, before ${describeBlock(block)}: that block sets ${keyword.name} for every connection "${formatMatchCriteria(criteria)}" selects, and sshd keeps the first matching block's value`,
      },
    ],
  };
  const still = findMatchShadow(planResult(tree, relocated), keyword, criteria, shadowOptions(options));
  if (still) return shadowRefusal(keyword, scope, still, ` (even with the setting placed before the block at ${block.path}:${block.line.line})`, 'change that block, or narrow "match" so it does not overlap it');
  return relocated;
}

/** add/remove in a Match block whose list an earlier block decides: refused (use set, which places a block). */
function refuseIfShadowed(tree: SshdConfigTree, keyword: SshdKeyword, scope: Scope, planned: Plan, options: SshdEditOptions & { version: string }): Plan {
  if (!scope.criteria || scope.blocks === 'global') return planned;
  const after = planResult(tree, planned);
  if (after === tree) return planned;
  const shadow = findMatchShadow(after, keyword, scope.criteria, shadowOptions(options));
  if (!shadow) return planned;
  return shadowRefusal(keyword, scope, shadow, '', `set the whole ${keyword.name} value with "set" (sshfix then places it before that block when it covers every such connection), or change that block`);
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function winnerMatches(keyword: SshdKeyword, d: SshdDirective, wanted: readonly string[], ctx: SshdValueContext, options: SshdEditOptions): boolean {
  const have = printedFor(keyword, d.line.rest ?? '', ctx, options);
  if (keyword.dumpName === 'maxstartups') {
    // `10` leaves the rate to whatever came before: compare the full spec as written.
    const items = lineItems(keyword, d.line, ctx);
    return items !== undefined && sameValues(items, wanted) && /:/.test(d.line.rest ?? '') === /:/.test(wanted.join(''));
  }
  return sameValues(have, wanted);
}

function planUnset(keyword: SshdKeyword, directives: SshdDirective[], scope: Scope): Plan {
  const buffer = new EditBuffer();
  const occ = occurrences(directives, keyword, scope.blocks);
  for (const d of occ) buffer.replace(d.path, d.line.line, commentOut(d.line, `unset ${keyword.name}`));
  return { buffer, reason: `${keyword.name} is not set ${scope.label}`, warnings: [] };
}

function planListChange(
  tree: SshdConfigTree,
  keyword: SshdKeyword,
  op: 'add' | 'remove',
  values: readonly string[],
  directives: SshdDirective[],
  scope: Scope,
  ctx: SshdValueContext,
  options: SshdEditOptions,
): Plan {
  if (keyword.value === 'algorithms') return planAlgorithmChange(tree, keyword, op, values, directives, scope, ctx, options);
  if (keyword.value === 'address-list') return planCommaListChange(tree, keyword, op, values, directives, scope, ctx, options);
  const buffer = new EditBuffer();
  const warnings: Diagnostic[] = [];
  const occ = occurrences(directives, keyword, scope.blocks);
  const accumulate = keyword.combine === 'accumulate';
  // Lines whose values count: all of them for accumulating keywords, the first otherwise.
  const counted = accumulate ? occ : occ.slice(0, 1);
  const have = counted.flatMap((d) => lineItems(keyword, d.line, ctx) ?? []);
  const isAllow = keyword.dumpName === 'allowusers' || keyword.dumpName === 'allowgroups';
  if (op === 'add') {
    const missing = values.filter((v) => !have.includes(v));
    if (missing.length === 0) return { buffer, reason: `${keyword.name} already contains ${values.join(' ')} ${scope.label}`, warnings };
    const target = counted[0];
    if (target) {
      const args = (target.line.args ?? []).map((a) => a.raw);
      buffer.replace(target.path, target.line.line, rewriteValue(target.line, [...args, ...missing.map(quoteArgument)].join(' ')));
      return { buffer, warnings };
    }
    // Absent in scope. In a Match block the block's list replaces the global one, so start from it.
    const base = scope.blocks === 'global' ? [] : currentValues(tree, keyword, options);
    if (isAllow && base.length === 0) {
      return { buffer, reason: `${keyword.name} is not set ${scope.label}: every ${keyword.dumpName === 'allowusers' ? 'user' : 'group'} is already allowed (adding one would shut out all others)`, warnings };
    }
    const items = accumulate || keyword.combine === 'first-line' ? [...splitItems(base), ...missing] : missing;
    return planSet(tree, keyword, items.map(quoteArgument).join(' '), directives, scope, ctx, options);
  }
  let changed = false;
  for (const d of occ) {
    const args = d.line.args ?? [];
    const keep = args.filter((a) => !values.includes(a.value));
    if (keep.length === args.length) continue;
    changed = true;
    if (keep.length === 0) buffer.replace(d.path, d.line.line, commentOut(d.line, `removed ${values.join(' ')}`));
    else buffer.replace(d.path, d.line.line, rewriteValue(d.line, keep.map((a) => a.raw).join(' ')));
  }
  if (changed && isAllow && occ.every((d) => (d.line.args ?? []).every((a) => values.includes(a.value)))) {
    warnings.push({ severity: 'warning', code: 'allow-list-emptied', message: `removing the last ${keyword.name} entries lets every ${keyword.dumpName === 'allowusers' ? 'user' : 'group'} in` });
  }
  return { buffer, reason: `${keyword.name} does not contain ${values.join(' ')} ${scope.label}`, warnings };
}

/**
 * `add`/`remove` on a one-word comma list whose first line wins (PerSourcePenaltyExemptList): the
 * entries go into, or out of, the line sshd uses; its other lines only ever shadowed.
 */
function planCommaListChange(
  tree: SshdConfigTree,
  keyword: SshdKeyword,
  op: 'add' | 'remove',
  values: readonly string[],
  directives: SshdDirective[],
  scope: Scope,
  ctx: SshdValueContext,
  options: SshdEditOptions,
): Plan {
  const buffer = new EditBuffer();
  const warnings: Diagnostic[] = [];
  const winner = occurrences(directives, keyword, scope.blocks)[0];
  const current = (winner?.line.args?.[0]?.value ?? 'none').split(',').filter((entry) => entry !== 'none');
  const next = op === 'add' ? [...current, ...values.filter((v) => !current.includes(v))] : current.filter((entry) => !values.includes(entry));
  if (next.length === current.length) {
    const reason = `${keyword.name} ${op === 'add' ? 'already contains' : 'does not contain'} ${values.join(' ')} ${scope.label}`;
    return { buffer, reason, warnings };
  }
  if (!winner) return planSet(tree, keyword, next.join(','), directives, scope, ctx, options);
  buffer.replace(winner.path, winner.line.line, next.length > 0 ? rewriteValue(winner.line, next.join(',')) : commentOut(winner.line, `removed ${values.join(' ')}`));
  return { buffer, warnings };
}

function splitItems(values: readonly string[]): string[] {
  return values.flatMap((v) => splitArguments(v)?.args.map((a) => a.value) ?? [v]);
}

function planAlgorithmChange(
  tree: SshdConfigTree,
  keyword: SshdKeyword,
  op: 'add' | 'remove',
  names: readonly string[],
  directives: SshdDirective[],
  scope: Scope,
  ctx: SshdValueContext,
  options: SshdEditOptions,
): Plan {
  const defaults = options.defaults ?? DEBIAN_12_DEFAULTS;
  const lists = defaults.algorithms[keyword.algorithmFamily ?? 'kex'];
  const occ = occurrences(directives, keyword, scope.blocks);
  const own = occ[0]?.line.args?.[0]?.value;
  // A Match block that does not set the keyword leaves its connections the global value. But a
  // `+`, `-` or `^` list in a Match block starts from the build's default, not from that value: a
  // relative list there would hand back what the global line took away. Write the list in full.
  const inherited = scope.blocks !== 'global' && own === undefined ? occurrences(directives, keyword, 'global')[0]?.line.args?.[0]?.value : undefined;
  const spec = own ?? inherited;
  const current = assembleAlgorithms(spec, lists);
  const buffer = new EditBuffer();
  if (op === 'add') {
    const missing = names.filter((n) => !current.includes(n));
    if (missing.length === 0) return { buffer, reason: `${keyword.name} already offers ${names.join(',')} ${scope.label}`, warnings: [] };
    let next: string;
    if (inherited !== undefined) next = [...current, ...missing].join(',');
    else if (spec === undefined) next = `+${missing.join(',')}`;
    else if (spec.startsWith('+')) next = `+${[...spec.slice(1).split(','), ...missing].join(',')}`;
    else if (spec.startsWith('-') || spec.startsWith('^')) next = [...current, ...missing].join(',');
    else next = [...spec.split(','), ...missing].join(',');
    return planSet(tree, keyword, next, directives, scope, ctx, options);
  }
  const present = names.filter((n) => current.includes(n));
  if (present.length === 0) return { buffer, reason: `${keyword.name} does not offer ${names.join(',')} ${scope.label}`, warnings: [] };
  const remaining = current.filter((n) => !present.includes(n));
  if (remaining.length === 0) {
    return { buffer: new EditBuffer(), reason: undefined, warnings: [{ severity: 'error', code: 'empty-algorithm-list', message: `removing ${present.join(',')} would leave ${keyword.name} empty` }] };
  }
  let next: string;
  if (inherited !== undefined) next = remaining.join(',');
  else if (spec === undefined) next = `-${present.join(',')}`;
  else if (spec.startsWith('-')) next = `-${[...spec.slice(1).split(','), ...present].join(',')}`;
  else next = remaining.join(',');
  return planSet(tree, keyword, next, directives, scope, ctx, options);
}
