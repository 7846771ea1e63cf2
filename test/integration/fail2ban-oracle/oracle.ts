/**
 * The real fail2ban as an oracle: `fail2ban-client -c DIR -d` reads a config directory the way the
 * server would get it (no server, no network) and prints the command stream, one Python list a
 * line. Each case is a scratch directory holding the package's stock jail.conf and paths files,
 * the filter.d/action.d directories linked from /etc/fail2ban, and the generated files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const FAIL2BAN_CLIENT = '/usr/bin/fail2ban-client';
/** The interpreter fail2ban is installed for (a pyenv python3 on PATH would not find its modules). */
export const PYTHON = '/usr/bin/python3';
const STOCK = '/etc/fail2ban';
/** Stock files copied into every case (the package's, unchanged by the oracle). */
export const STOCK_FILES = ['jail.conf', 'paths-common.conf', 'paths-debian.conf'];

/** Throws, saying what is missing, unless the oracle can run. Tests must not skip. */
export function assertFail2banAvailable(): void {
  const problems: string[] = [];
  if (!existsSync(FAIL2BAN_CLIENT)) problems.push(`${FAIL2BAN_CLIENT} is missing: apt-get install fail2ban`);
  for (const f of [...STOCK_FILES, 'filter.d/sshd.conf', 'action.d/iptables-multiport.conf']) if (!existsSync(join(STOCK, f))) problems.push(`${STOCK}/${f} is missing (package fail2ban)`);
  if (problems.length) throw new Error(`fail2ban oracle unavailable: ${problems.join('; ')}`);
}

/** Reads one stock file (the engine gets the same text the oracle reads). */
export function stockText(name: string): string {
  return readFileSync(join(STOCK, name), 'utf8');
}

export interface DumpOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Creates a config dir: stock files plus `files` (paths relative to the dir). Returns the dir. */
export function makeConfigDir(root: string, files: ReadonlyMap<string, string>, withStock = true): string {
  const dir = mkdtempSync(join(root, 'cfg-'));
  symlinkSync(join(STOCK, 'filter.d'), join(dir, 'filter.d'));
  symlinkSync(join(STOCK, 'action.d'), join(dir, 'action.d'));
  mkdirSync(join(dir, 'jail.d'));
  if (withStock) for (const f of STOCK_FILES) copyFileSync(join(STOCK, f), join(dir, f));
  for (const [rel, text] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function runOne(dir: string): Promise<DumpOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(FAIL2BAN_CLIENT, ['-c', dir, '-d'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
  });
}

/** Dumps every case, `parallel` at a time; results in case order. */
export async function dumpConfigs(cases: readonly ReadonlyMap<string, string>[], parallel = 2): Promise<DumpOutcome[]> {
  const root = mkdtempSync(join(tmpdir(), 'sshfix-f2b-oracle-'));
  try {
    const out: DumpOutcome[] = new Array(cases.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const i = next++;
        const dir = makeConfigDir(root, cases[i]!);
        out[i] = await runOne(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export type PyValue = string | number | boolean | null | PyValue[];

/** Parses one Python literal as `repr` prints it (lists, str, int, None, True, False). */
export function parsePythonLiteral(s: string): PyValue {
  let i = 0;
  const ws = (): void => {
    while (s[i] === ' ') i++;
  };
  const value = (): PyValue => {
    ws();
    const c = s[i];
    if (c === '[') {
      i++;
      const list: PyValue[] = [];
      ws();
      if (s[i] === ']') {
        i++;
        return list;
      }
      for (;;) {
        list.push(value());
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return list;
        }
        throw new Error(`bad list at ${i}: ${s}`);
      }
    }
    if (c === "'" || c === '"') {
      i++;
      let out = '';
      while (s[i] !== c) {
        if (i >= s.length) throw new Error(`unterminated string: ${s}`);
        if (s[i] === '\\') {
          const e = s[i + 1]!;
          i += 2;
          if (e === 'n') out += '\n';
          else if (e === 't') out += '\t';
          else if (e === 'r') out += '\r';
          else if (e === 'x') {
            out += String.fromCharCode(parseInt(s.slice(i, i + 2), 16));
            i += 2;
          } else if (e === 'u') {
            out += String.fromCharCode(parseInt(s.slice(i, i + 4), 16));
            i += 4;
          } else out += e;
        } else out += s[i++];
      }
      i++;
      return out;
    }
    const m = /^(None|True|False|-?\d+(?:\.\d+)?)/.exec(s.slice(i));
    if (!m) throw new Error(`unexpected at ${i}: ${s}`);
    i += m[0].length;
    return m[0] === 'None' ? null : m[0] === 'True' ? true : m[0] === 'False' ? false : Number(m[0]);
  };
  return value();
}

/** What the dump says about each started jail: backend, `set` values, ignoreip entries. */
export interface DumpedJail {
  backend: string;
  values: Map<string, PyValue>;
  ignoreip?: string[];
}

export function parseDump(stdout: string): Map<string, DumpedJail> {
  const jails = new Map<string, DumpedJail>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('[')) continue;
    const cmd = parsePythonLiteral(line);
    if (!Array.isArray(cmd)) continue;
    if (cmd[0] === 'add' && typeof cmd[1] === 'string') jails.set(cmd[1], { backend: String(cmd[2]), values: new Map() });
    if (cmd[0] === 'set' && typeof cmd[1] === 'string' && jails.has(cmd[1])) {
      const jail = jails.get(cmd[1])!;
      if (cmd[2] === 'addignoreip') jail.ignoreip = cmd.slice(3).map(String);
      else if (typeof cmd[2] === 'string') jail.values.set(cmd[2], cmd[3] ?? null);
    }
  }
  return jails;
}

/** Runs a Python snippet that uses fail2ban's own modules, feeding it lines on stdin. */
export function runFail2banPython(code: string, input: string): string {
  const r = spawnSync(PYTHON, ['-c', code], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout;
}
