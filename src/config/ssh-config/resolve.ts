/**
 * The settings `ssh HOST` obtains from one ssh_config file and the files it includes, in the order
 * ssh reads them: `Host` and `Match` switch lines on and off, the first value obtained wins
 * (IdentityFile accumulates), and `Include` reads its files in place, each starting in the state
 * of the line that includes it; an Include in an inactive block can turn nothing on. Files come
 * through `source`, so this stays pure. Match criteria that need the network or a command (`exec`,
 * `canonical`, `final`, `localnetwork`, `tagged`) are not evaluated: they count as not matching
 * and are reported as warnings.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import { splitDelimited } from '../openssh/lexer.js';
import { matchPatternList } from '../sshd/match.js';
import { hostPatternsMatch } from './effective.js';
import { lookupSshKeyword, parseSshValue } from './keywords.js';
import { parseSshConfig } from './parse.js';

export interface SshConfigSource {
  /** The text of a file, or undefined when it does not exist or cannot be read. */
  read(path: string): string | undefined;
  /** The existing paths a glob pattern names, sorted as glob(3) sorts them. */
  glob(pattern: string): string[];
}

export interface ResolveSshOptions {
  /** The runner user's home: `~` in Include, and where relative Include paths start (`~/.ssh/`). */
  homeDir: string;
  /** The local user, for `Match localuser` and the default remote user of `Match user`. */
  localUser: string;
}

/** One obtained value: the items as the keyword's parser normalises them, and the line it came from. */
export interface ObtainedValue {
  values: string[];
  source: { path: string; line: number };
}

const MAX_DEPTH = 16;

/** What `ssh -G -F MAIN HOST` obtains from the files, by `ssh -G` keyword (only keywords sshfix reads; defaults not filled in). */
export function resolveSshHostConfig(main: string, host: string, source: SshConfigSource, options: ResolveSshOptions): { values: Map<string, ObtainedValue>; diagnostics: Diagnostic[] } {
  const found = new Map<string, ObtainedValue>();
  const diagnostics: Diagnostic[] = [];
  const original = host.toLowerCase();
  const warn = (path: string, line: number, message: string): void => {
    diagnostics.push({ severity: 'warning', code: 'ssh-config-not-evaluated', message, file: path, range: { start: { line, column: 1 }, end: { line, column: 1 } } });
  };
  const targetHost = (): string => (found.get('hostname')?.values[0] ?? original).replace(/%h/g, original).toLowerCase();
  const matchApplies = (words: string[], path: string, line: number): boolean => {
    if (words.length === 1 && words[0]!.toLowerCase() === 'all') return true;
    let ok = true;
    for (let i = 0; i < words.length; i++) {
      const raw = words[i]!;
      const negate = raw.startsWith('!');
      const attr = raw.replace(/^!/, '').toLowerCase();
      if (attr === 'all') continue;
      const value = words[++i] ?? '';
      let hit: boolean;
      if (attr === 'host') hit = matchPatternList(targetHost(), value, true) === 1;
      else if (attr === 'originalhost') hit = matchPatternList(original, value, true) === 1;
      else if (attr === 'user') hit = matchPatternList(found.get('user')?.values[0] ?? options.localUser, value, false) === 1;
      else if (attr === 'localuser') hit = matchPatternList(options.localUser, value, false) === 1;
      else {
        warn(path, line, `Match ${raw} is not evaluated by sshfix: the block is taken as not matching`);
        return false;
      }
      ok &&= negate ? !hit : hit;
    }
    return ok;
  };
  const includePaths = (arg: string): string[] => {
    let pattern = arg.startsWith('~/') ? `${options.homeDir}/${arg.slice(2)}` : arg;
    if (!pattern.startsWith('/')) pattern = `${options.homeDir}/.ssh/${pattern}`;
    return /[*?[]/.test(pattern) ? source.glob(pattern) : source.read(pattern) === undefined ? [] : [pattern];
  };
  const readFile = (path: string, initiallyActive: boolean, neverMatch: boolean, depth: number): void => {
    const text = source.read(path);
    if (text === undefined) return;
    let active = initiallyActive;
    for (const line of parseSshConfig(text, path).lines) {
      if (line.kind !== 'directive') continue;
      const keyword = line.keyword?.toLowerCase();
      if (keyword === 'host') {
        // Host lines compare the name as typed (case matters); Match host/originalhost do not.
        active = !neverMatch && hostPatternsMatch((line.args ?? []).map((a) => a.value), host);
      } else if (keyword === 'match') {
        active = !neverMatch && matchApplies(splitDelimited(line.rest ?? '') ?? [], path, line.line);
      } else if (keyword === 'include') {
        if (depth >= MAX_DEPTH) {
          warn(path, line.line, 'Include nested too deeply');
          continue;
        }
        for (const arg of line.args ?? []) {
          for (const file of includePaths(arg.value)) readFile(file, active, neverMatch || !active, depth + 1);
        }
      } else if (active) {
        const kw = lookupSshKeyword(line.keyword ?? '');
        if (!kw) continue;
        const parsed = parseSshValue(kw, line.rest ?? '');
        if ('problem' in parsed) {
          diagnostics.push({ severity: 'error', code: parsed.problem.code, message: parsed.problem.message, file: path, range: { start: { line: line.line, column: 1 }, end: { line: line.line, column: line.text.length + 1 } } });
          continue;
        }
        const existing = found.get(kw.dumpName);
        if (existing && kw.combine === 'first') continue;
        // ssh keeps one entry per identity file, however often it is named.
        if (existing) existing.values.push(...parsed.items.filter((item) => !existing.values.includes(item)));
        else found.set(kw.dumpName, { values: [...parsed.items], source: { path, line: line.line } });
      }
    }
  };
  readFile(main, true, false, 0);
  return { values: found, diagnostics };
}
