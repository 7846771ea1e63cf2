/**
 * OpenSSH versions as the sshd engine compares them, apart from the keyword table so that the
 * Match and value modules can use them without importing the table (which imports them).
 */

/** The OpenSSH version whose behaviour the engine reproduces when none is given. */
export const DEFAULT_OPENSSH_VERSION = '9.2';

/** Compares dotted versions ("9.2" < "9.10", "9.9p1" < "9.9p2"); a missing part counts as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.p]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.p]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
