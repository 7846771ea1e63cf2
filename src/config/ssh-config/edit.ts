/**
 * Ensures a `Host` block in ssh_config carries given settings. The client keeps the first value
 * it obtains, so a block for specific hosts must come before `Host *` (and before any earlier
 * block that also matches): a new block is placed right before the first block that would
 * otherwise decide for those hosts. Algorithm keywords are never widened in `Host *`.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import { lexLine, linesToText, type ConfigLine } from '../openssh/lexer.js';
import { evaluateSshConfig, hostPatternsMatch, sshBlocks } from './effective.js';
import { legacyAlgorithmsIn, lookupSshKeyword, parseSshValue, patternsMatchEveryHost } from './keywords.js';
import { parseSshConfig, type SshConfigFile } from './parse.js';

export interface EnsureSshHostBlock {
  /** The patterns of the `Host` line, e.g. ['legacy-*.example.com']. */
  hosts: readonly string[];
  /** Keyword -> value, written as given (e.g. { KexAlgorithms: '+diffie-hellman-group14-sha1' }). */
  settings: Readonly<Record<string, string>>;
  /** Keywords whose lines are removed from that block (the value then comes from a later block or the default). */
  unset?: readonly string[];
}

export interface SshEditResult {
  changes: { path: string; before: string; after: string }[];
  reason?: string;
  diagnostics: Diagnostic[];
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/** Plans the edit of one ssh_config file. */
export function ensureSshHostBlock(file: SshConfigFile, request: EnsureSshHostBlock): SshEditResult {
  const error = (code: string, message: string, hint?: string): SshEditResult => ({ changes: [], diagnostics: [{ severity: 'error', code, message, ...(hint ? { hint } : {}), file: file.path }] });
  if (request.hosts.length === 0) return error('missing-hosts', 'a Host block needs at least one pattern');
  const keywords = Object.entries(request.settings).map(([name, value]) => ({ name, value, kw: lookupSshKeyword(name) }));
  for (const { name, value, kw } of keywords) {
    if (!kw) return error('unknown-keyword', `unknown or unsupported ssh_config keyword "${name}"`);
    const p = parseSshValue(kw, value);
    if ('problem' in p) return error(p.problem.code, p.problem.message, p.problem.hint);
    if (kw.legacyRisk && patternsMatchEveryHost(request.hosts) && legacyAlgorithmsIn(value).length > 0) {
      return error('algorithms-in-host-star', `${kw.name} ${value} must not be enabled for every host (Host *)`, 'name the hosts that need it, e.g. hosts: ["old-switch.example.com"]');
    }
  }
  const unset = [];
  for (const name of request.unset ?? []) {
    const kw = lookupSshKeyword(name);
    if (!kw) return error('unknown-keyword', `unknown or unsupported ssh_config keyword "${name}"`);
    unset.push(kw);
  }
  const blocks = sshBlocks(file);
  const target = blocks.find((b) => b.block.kind === 'host' && sameSet(b.block.patterns, request.hosts));
  const eol = file.lines.some((l) => l.eol === '\r\n') ? '\r\n' : '\n';
  const lines: ConfigLine[] = [...file.lines];
  const replaceAt = new Map<number, string>();
  const removeAt = new Set<number>();
  const insertAt = new Map<number, string[]>();
  const add = (at: number, text: string): void => {
    insertAt.set(at, [...(insertAt.get(at) ?? []), text]);
  };
  if (target) {
    const indent = target.lines.find((l) => l.kind === 'directive')?.text.match(/^[ \t]*/)?.[0] || '    ';
    let lastDirective = target.block.line!.line;
    for (const l of target.lines) if (l.kind === 'directive') lastDirective = l.line;
    for (const { value, kw } of keywords) {
      const existing = target.lines.find((l) => l.kind === 'directive' && lookupSshKeyword(l.keyword ?? '')?.name === kw!.name);
      if (existing) {
        const have = parseSshValue(kw!, existing.rest ?? '');
        const want = parseSshValue(kw!, value);
        if ('items' in have && 'items' in want && have.items.join(' ') === want.items.join(' ')) continue;
        replaceAt.set(existing.line, `${existing.text.slice(0, existing.restStart)}${value}`);
      } else add(lastDirective + 1, `${indent}${kw!.name} ${value}`);
    }
    for (const kw of unset) {
      for (const l of target.lines) if (l.kind === 'directive' && lookupSshKeyword(l.keyword ?? '')?.name === kw.name) removeAt.add(l.line);
    }
  } else if (keywords.length > 0) {
    // Before the first block that would also decide for these hosts (Host * at the latest).
    const probe = request.hosts.find((h) => !h.startsWith('!')) ?? request.hosts[0]!;
    const shadow = blocks.find((b) => b.block.kind !== 'global' && (b.block.kind === 'match' || hostPatternsMatch(b.block.patterns, probe) || b.block.patterns.includes('*')));
    const at = shadow ? shadow.block.line!.line : lines.length + 1;
    const block = [`Host ${request.hosts.join(' ')}`, ...keywords.map(({ value, kw }) => `    ${kw!.name} ${value}`), ...(shadow ? [''] : [])];
    if (!shadow && lines.length && lines[lines.length - 1]!.kind !== 'blank') block.unshift('');
    for (const t of block) add(at, t);
  }
  const out: ConfigLine[] = [];
  const push = (text: string): void => {
    const prev = out[out.length - 1];
    if (prev && prev.eol === '') out[out.length - 1] = { ...prev, eol };
    out.push(lexLine(text, out.length + 1, eol));
  };
  lines.forEach((l, i) => {
    for (const t of insertAt.get(i + 1) ?? []) push(t);
    if (removeAt.has(i + 1)) return;
    const r = replaceAt.get(i + 1);
    out.push(r === undefined ? l : lexLine(r, l.line, l.eol));
  });
  for (const t of insertAt.get(lines.length + 1) ?? []) push(t);
  const before = linesToText(file.lines);
  const after = linesToText(out);
  const diagnostics: Diagnostic[] = [];
  if (after === before) return { changes: [], reason: `Host ${request.hosts.join(' ')} already is as requested (${[...Object.keys(request.settings), ...(request.unset ?? []).map((k) => `no ${k}`)].join(', ')})`, diagnostics };
  const probe = request.hosts.find((h) => !/[*?!]/.test(h));
  if (probe) {
    const effective = evaluateSshConfig(parseSshConfig(after, file.path), probe).values;
    for (const { value, kw } of keywords) {
      const want = parseSshValue(kw!, value);
      const got = effective.get(kw!.dumpName);
      if ('items' in want && kw!.value !== 'algorithms' && got?.values.join(' ') !== want.items.join(' ')) {
        diagnostics.push({ severity: 'warning', code: 'shadowed-by-earlier-block', message: `${kw!.name} for ${probe} is decided by ${got?.source ? `${got.source.path}:${got.source.line}` : 'an earlier block'}`, file: file.path });
      }
    }
  }
  return { changes: [{ path: file.path, before, after }], diagnostics };
}
