/**
 * glob(3) over a gathered snapshot of files instead of a live file system, as OpenSSH expands
 * `Include` (flags 0: `*`, `?`, `[...]`, leading dots not matched by wildcards, results sorted
 * byte-wise as in the C locale).
 */

/**
 * Files gathered from a host. Paths are absolute. `listedDirs` are the directories whose complete
 * listing is known: a wildcard can be expanded in them, and a file absent from one is known not
 * to exist. A directory not listed is unknown territory.
 */
export interface FileSnapshot {
  files: ReadonlyMap<string, string>;
  listedDirs: ReadonlySet<string>;
  /**
   * Names a listed directory holds besides the files read (subdirectories, files no glob asked
   * for): without them a subdirectory nobody listed would look absent instead of unknown.
   */
  entries?: ReadonlyMap<string, readonly string[]>;
}

/** Result of one glob: matches in order, or `unresolved` when the snapshot cannot tell. */
export interface SnapshotGlobResult {
  files: string[];
  /** The directory that would have to be listed to answer, when the snapshot cannot. */
  unresolvedDir?: string;
}

const hasMagic = (s: string): boolean => /[*?[]/.test(s);

/** fnmatch(3) of one path component, without FNM_PERIOD subtleties beyond a leading dot. */
export function matchComponent(name: string, pattern: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else re += escapeRe(c);
  }
  return new RegExp(`${re}$`, 's').test(name);
}

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Names directly inside `dir` that the snapshot knows of (files and listed directories). */
export function snapshotEntries(snapshot: FileSnapshot, dir: string): Set<string> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out = new Set<string>();
  const add = (p: string): void => {
    if (!p.startsWith(prefix)) return;
    const name = p.slice(prefix.length).split('/')[0];
    if (name) out.add(name);
  };
  for (const p of snapshot.files.keys()) add(p);
  for (const p of snapshot.listedDirs) add(p);
  for (const name of snapshot.entries?.get(dir.endsWith('/') && dir !== '/' ? dir.slice(0, -1) : dir) ?? []) out.add(name);
  return out;
}

function isListed(snapshot: FileSnapshot, dir: string): boolean {
  return snapshot.listedDirs.has(dir) || snapshot.listedDirs.has(dir.endsWith('/') ? dir.slice(0, -1) : `${dir}/`);
}

/** True when a listed ancestor shows that `path` does not exist. */
function knownAbsent(snapshot: FileSnapshot, path: string): boolean {
  if (snapshot.files.has(path) || isListed(snapshot, path)) return false;
  for (let p = path; p !== '/'; p = parentOf(p)) {
    const parent = parentOf(p);
    if (isListed(snapshot, parent)) return !snapshotEntries(snapshot, parent).has(p.slice(parent === '/' ? 1 : parent.length + 1));
  }
  return false;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Expands an absolute glob pattern against the snapshot. Only regular files are returned. */
export function globSnapshot(snapshot: FileSnapshot, pattern: string): SnapshotGlobResult {
  if (!hasMagic(pattern)) {
    if (snapshot.files.has(pattern)) return { files: [pattern] };
    const dir = parentOf(pattern);
    return isListed(snapshot, dir) || knownAbsent(snapshot, dir) ? { files: [] } : { files: [], unresolvedDir: dir };
  }
  const parts = pattern.split('/').filter((p, i) => p !== '' || i === 0);
  let candidates = ['/'];
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const base of candidates) {
      const join = (name: string): string => (base === '/' ? `/${name}` : `${base}/${name}`);
      if (!hasMagic(part)) {
        next.push(join(part.replace(/\\(.)/g, '$1')));
        continue;
      }
      if (!isListed(snapshot, base)) {
        if (knownAbsent(snapshot, base)) continue;
        return { files: [], unresolvedDir: base };
      }
      const names = [...snapshotEntries(snapshot, base)].filter((n) => matchComponent(n, part)).sort(byteOrder);
      for (const n of names) next.push(join(n));
    }
    candidates = last ? next : next.filter((p) => !snapshot.files.has(p));
  }
  const files: string[] = [];
  for (const c of candidates) {
    if (snapshot.files.has(c)) files.push(c);
    else if (!isListed(snapshot, parentOf(c)) && !knownAbsent(snapshot, c)) return { files: [], unresolvedDir: parentOf(c) };
  }
  return { files: files.sort(byteOrder) };
}
