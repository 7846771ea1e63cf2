/**
 * Effective client settings for one destination, as `ssh -G -F FILE HOST` computes them: lines
 * apply while the current `Host` patterns (or `Match host/all`) match, and the first value
 * obtained wins. Include and the Match criteria other than `all`/`host` are not evaluated: they
 * are reported as warnings, so a caller never trusts a value that might be wrong.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import type { ConfigLine } from '../openssh/lexer.js';
import { splitDelimited } from '../openssh/lexer.js';
import { DEBIAN_12_DEFAULTS, type SshdDefaults } from '../sshd/defaults.js';
import { assembleAlgorithms } from '../sshd/effective.js';
import { matchPatternList } from '../sshd/match.js';
import { lookupSshKeyword, parseSshValue, SSH_KEYWORDS } from './keywords.js';
import type { SshConfigFile } from './parse.js';

export interface SshEffectiveValue {
  dumpName: string;
  /** What `ssh -G` prints for the keyword (one entry per printed line). */
  values: string[];
  /** The line that decided it; undefined = ssh's default. */
  source?: { path: string; line: number };
}

/**
 * Whether a `Host` line's patterns select `host` (any positive match and no negated one). Case
 * matters here, as in ssh (`Host FOO` does not select `foo`), unlike `Match host`.
 */
export function hostPatternsMatch(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    const r = matchPatternList(host, p);
    if (r === -1) return false;
    if (r === 1) matched = true;
  }
  return matched;
}

/** Client defaults that `ssh -G` prints for an empty config on Debian 12 (OpenSSH 9.2). */
const CLIENT_DEFAULTS: Readonly<Record<string, string>> = {
  port: '22',
  batchmode: 'no',
  compression: 'no',
  identitiesonly: 'no',
  tcpkeepalive: 'yes',
  serveralivecountmax: '3',
  serveraliveinterval: '0',
  connecttimeout: 'none',
  loglevel: 'INFO',
};

export interface EvaluateSshOptions {
  /** The local user, which `ssh -G` prints as `user` when none is configured. */
  localUser?: string;
  defaults?: SshdDefaults;
}

/** Line-level context of a client config: which block each directive is in. */
export interface SshBlock {
  kind: 'global' | 'host' | 'match';
  line?: ConfigLine;
  patterns: string[];
}

/** Reads the blocks of a file: the lines before the first Host/Match are global. */
export function sshBlocks(file: SshConfigFile): { block: SshBlock; lines: ConfigLine[] }[] {
  const out: { block: SshBlock; lines: ConfigLine[] }[] = [{ block: { kind: 'global', patterns: [] }, lines: [] }];
  for (const line of file.lines) {
    const kw = line.kind === 'directive' ? line.keyword?.toLowerCase() : undefined;
    if (kw === 'host') {
      out.push({ block: { kind: 'host', line, patterns: (line.args ?? []).map((a) => a.value) }, lines: [] });
    } else if (kw === 'match') {
      out.push({ block: { kind: 'match', line, patterns: splitDelimited(line.rest ?? '') ?? [] }, lines: [] });
    } else out[out.length - 1]!.lines.push(line);
  }
  return out;
}

function blockApplies(block: SshBlock, host: string, warn: (line: ConfigLine, msg: string) => void): boolean {
  if (block.kind === 'global') return true;
  if (block.kind === 'host') return hostPatternsMatch(block.patterns, host);
  const words = block.patterns;
  if (words.length === 1 && words[0]!.toLowerCase() === 'all') return true;
  let ok = true;
  for (let i = 0; i < words.length; i += 2) {
    const attr = words[i]!.toLowerCase();
    const value = words[i + 1] ?? '';
    if (attr === 'host' || attr === 'originalhost') ok &&= matchPatternList(host.toLowerCase(), value, true) === 1;
    else {
      warn(block.line!, `Match ${words[i]} is not evaluated by sshfix`);
      return false;
    }
  }
  return ok;
}

/** Evaluates every keyword of the table for `host`. */
export function evaluateSshConfig(file: SshConfigFile, host: string, options: EvaluateSshOptions = {}): { values: Map<string, SshEffectiveValue>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const warn = (line: ConfigLine, message: string): void => {
    diagnostics.push({ severity: 'warning', code: 'not-evaluated', message, file: file.path, range: { start: { line: line.line, column: 1 }, end: { line: line.line, column: line.text.length + 1 } } });
  };
  const found = new Map<string, SshEffectiveValue>();
  for (const { block, lines } of sshBlocks(file)) {
    const applies = blockApplies(block, host, warn);
    for (const line of lines) {
      if (line.kind !== 'directive') continue;
      if (line.keyword?.toLowerCase() === 'include') warn(line, 'Include is not followed by sshfix for ssh_config');
      const kw = lookupSshKeyword(line.keyword ?? '');
      if (!kw || !applies) continue;
      const parsed = parseSshValue(kw, line.rest ?? '');
      if ('problem' in parsed) {
        diagnostics.push({ severity: 'error', code: parsed.problem.code, message: parsed.problem.message, file: file.path, range: { start: { line: line.line, column: 1 }, end: { line: line.line, column: line.text.length + 1 } } });
        continue;
      }
      const existing = found.get(kw.dumpName);
      if (existing && kw.combine === 'first') continue;
      if (existing) existing.values.push(...parsed.items);
      else found.set(kw.dumpName, { dumpName: kw.dumpName, values: [...parsed.items], source: { path: file.path, line: line.line } });
    }
  }
  const defaults = options.defaults ?? DEBIAN_12_DEFAULTS;
  const values = new Map<string, SshEffectiveValue>();
  for (const kw of SSH_KEYWORDS) {
    const v = found.get(kw.dumpName);
    if (kw.value === 'algorithms' && kw.algorithmFamily) {
      const assembled = assembleAlgorithms(v?.values[0], defaults.algorithms[kw.algorithmFamily]).join(',');
      values.set(kw.dumpName, { dumpName: kw.dumpName, values: [assembled], ...(v?.source ? { source: v.source } : {}) });
    } else if (v) values.set(kw.dumpName, v);
    // In batch mode ssh probes a silent server every 5 minutes unless told otherwise.
    else if (kw.dumpName === 'serveraliveinterval' && found.get('batchmode')?.values[0] === 'yes') values.set(kw.dumpName, { dumpName: kw.dumpName, values: ['300'] });
    else if (kw.dumpName === 'user' && options.localUser) values.set('user', { dumpName: 'user', values: [options.localUser] });
    else if (CLIENT_DEFAULTS[kw.dumpName] !== undefined) values.set(kw.dumpName, { dumpName: kw.dumpName, values: [CLIENT_DEFAULTS[kw.dumpName]!] });
  }
  return { values, diagnostics };
}
