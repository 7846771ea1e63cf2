import type { PlainValue } from './yaml-tree.js';

/**
 * Control characters in values that reach a host. Every value sshfix writes is one line of a
 * config file (sshd_config, ssh_config, jail.local, hosts.allow) or one argument of a command, so
 * a newline or carriage return would start a second directive the plan never named (a
 * `Banner` that also sets `PermitEmptyPasswords yes`), and a NUL ends the string early in C
 * programs. Every C0 control (U+0000-U+001F), DEL and the C1 controls (U+0080-U+009F, NEL among
 * them) are refused.
 *
 * Tab too, deliberately: sshd, ssh, fail2ban and tcpd all read it as whitespace, so a tab inside
 * a value splits it into two words exactly like a space would, while a plan or diff shows it as
 * if it were one. A value that needs a separator says so with a visible space.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** The first control character in `text`: its 0-based offset and the character. */
export interface ControlCharacter {
  offset: number;
  char: string;
}

export function findControlCharacter(text: string): ControlCharacter | undefined {
  const match = CONTROL.exec(text);
  return match ? { offset: match.index, char: match[0] } : undefined;
}

/** The first control character in any string inside `value`, with the path to that string (`[]`: the value itself). */
export function findControlCharacterIn(value: PlainValue): (ControlCharacter & { path: string[] }) | undefined {
  if (typeof value === 'string') {
    const found = findControlCharacter(value);
    return found ? { ...found, path: [] } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const entries: [string, PlainValue][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const found = findControlCharacterIn(child);
    if (found) return { ...found, path: [key, ...found.path] };
  }
  return undefined;
}

const NAMES: Readonly<Record<string, string>> = {
  '\n': 'a newline',
  '\r': 'a carriage return',
  '\0': 'a NUL',
  '\t': 'a tab',
};

/** "a newline (U+000A)", "a control character (U+001B)". */
export function describeControlCharacter(char: string): string {
  const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${NAMES[char] ?? 'a control character'} (${code})`;
}

/** Why the character is refused, for the diagnostic's hint. */
export function controlCharacterHint(char: string): string {
  return char === '\t'
    ? 'sshd, ssh, fail2ban and tcpd read a tab as whitespace: it would split the value where the plan shows none; write a space if you mean two words'
    : 'each value is written as one line of a config file or one command argument: a line break or other control character would smuggle in a second directive; remove it';
}
