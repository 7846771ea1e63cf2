/**
 * Reading and appending known_hosts files. Reads are cached per file until it changes on disk, so
 * a run over 500 hosts parses a shared file once, not 500 times.
 *
 * The work is synchronous on purpose: a lookup followed by an append runs without yielding to the
 * event loop, so two handshakes of one run can never both record the same host.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseKnownHosts, type KnownHostsFile } from './known-hosts.js';

export interface LoadedKnownHosts {
  file: KnownHostsFile;
  exists: boolean;
}

const EMPTY: KnownHostsFile = { entries: [], invalidLines: [] };

export class KnownHostsFiles {
  private readonly cache = new Map<string, { stamp: string; file: KnownHostsFile }>();

  /** The parsed file, or an empty one when it does not exist. Other read errors throw. */
  load(path: string): LoadedKnownHosts {
    let stamp: string;
    try {
      const st = statSync(path);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file: EMPTY, exists: false };
      throw err;
    }
    const cached = this.cache.get(path);
    if (cached && cached.stamp === stamp) return { file: cached.file, exists: true };
    const file = parseKnownHosts(readFileSync(path, 'utf8'));
    this.cache.set(path, { stamp, file });
    return { file, exists: true };
  }

  /**
   * Appends one line with a single O_APPEND write (so concurrent writers, such as an OpenSSH client
   * recording another host, never interleave inside a line), after a newline if the file lacks a
   * final one. A missing file is created with mode 0600 and a missing directory with 0700, as
   * OpenSSH does.
   */
  append(path: string, line: string): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(path, 'a+', 0o600);
    try {
      const size = fstatSync(fd).size;
      let prefix = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
      writeSync(fd, `${prefix}${line}\n`);
    } finally {
      closeSync(fd);
    }
    this.cache.delete(path);
  }
}
