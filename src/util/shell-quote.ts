/**
 * POSIX shell quoting. Every remote command sshfix runs is assembled from typed values through
 * these helpers; nothing user-supplied reaches a shell unquoted.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell (sh, bash, dash, busybox ash). */
export function quoteShellArg(value: string): string {
  if (value.includes('\0')) {
    throw new TypeError('a shell argument cannot contain a NUL byte');
  }
  if (value !== '' && SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Builds a command line from a program and its arguments, quoting each. */
export function shellCommand(program: string, ...args: readonly string[]): string {
  return [program, ...args].map(quoteShellArg).join(' ');
}
