/**
 * Server-side count of logins: each lab host's sshd logs "Accepted publickey for ..." through
 * syslog to its own /var/log/auth.log once per authenticated connection. A snapshot of every log's
 * size before a run, read again after it, gives the logins that run made on each host.
 *
 * sshd at its default LogLevel logs neither session channels nor exec requests, and PAM's
 * "session opened" lines come once per connection: exec round trips cannot be counted from these
 * logs (ssh2-census.ts counts sshfix's on the client side).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { BenchLabHost } from './bench-lab.js';

/** The host's own /var/log/auth.log, seen through its sshd's mount namespace. */
const authLogOf = (host: BenchLabHost): string => `/proc/${host.sshdPid}/root/var/log/auth.log`;

export type AuthLogMarks = Map<string, number>;

export function markAuthLogs(hosts: readonly BenchLabHost[]): AuthLogMarks {
  return new Map(hosts.map((h) => [h.name, statSync(authLogOf(h)).size]));
}

function readFrom(path: string, offset: number): string {
  const fd = openSync(path, 'r');
  try {
    const length = Math.max(0, statSync(path).size - offset);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Authenticated connections per host name since `marks` were taken. */
export function loginsSince(hosts: readonly BenchLabHost[], marks: AuthLogMarks): Map<string, number> {
  const counts = new Map<string, number>();
  for (const host of hosts) {
    const text = readFrom(authLogOf(host), marks.get(host.name) ?? 0);
    counts.set(host.name, text.split('\n').filter((line) => / sshd\[\d+\]: Accepted publickey for /.test(line)).length);
  }
  return counts;
}
