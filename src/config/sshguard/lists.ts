/**
 * sshguard's own files: sshguard.conf (a shell fragment it sources), the whitelist file (one
 * address, CIDR block or host name a line, `#` comments) and the blacklist file (one block a line:
 * `time|service|family|address`), with the minimal edits the sshguard task makes. Pure.
 */
import { canonicalAddress } from '../hosts-access/match.js';
import { parseIpv4, parseIpv6 } from '../sshd/values.js';

/** The variables of sshguard.conf as `sh` would read its plain assignments (`NAME=value`, quoted or not). */
export function readSshguardConf(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!.trim();
    const quoted = /^"([^"]*)"\s*(#.*)?$/.exec(value) ?? /^'([^']*)'\s*(#.*)?$/.exec(value);
    value = quoted ? quoted[1]! : value.replace(/\s+#.*$/, '');
    values.set(match[1]!, value);
  }
  return values;
}

/** The blacklist file's path from BLACKLIST_FILE (`threshold:path`). */
export function blacklistPath(setting: string | undefined): string | undefined {
  if (!setting) return undefined;
  const colon = setting.indexOf(':');
  const path = colon === -1 ? setting : setting.slice(colon + 1);
  return path.startsWith('/') ? path : undefined;
}

export type WhitelistEntry = { ok: true; text: string } | { ok: false; message: string };

/** Validates one whitelist entry (an address or CIDR block, in sshguard's notation). */
export function validateWhitelistEntry(value: string): WhitelistEntry {
  if (!/^[0-9A-Fa-f:.\/]+$/.test(value)) return { ok: false, message: `${JSON.stringify(value)} is not an address or CIDR block (e.g. 192.0.2.7 or 198.51.100.0/24)` };
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const v4 = parseIpv4(address);
  const v6 = v4 ? undefined : parseIpv6(address);
  if (!v4 && !v6) return { ok: false, message: `${JSON.stringify(value)}: ${JSON.stringify(address)} is not an address` };
  if (slash !== -1) {
    const bits = value.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > (v4 ? 32 : 128)) return { ok: false, message: `${JSON.stringify(value)}: bad prefix length` };
    return { ok: true, text: `${canonicalAddress(address)}/${Number(bits)}` };
  }
  return { ok: true, text: canonicalAddress(address)! };
}

/** The 16-bit groups of an address (IPv4 as two groups mapped into the IPv6 space) and the prefix length over 128 bits. */
function block(entry: string): { groups: number[]; bits: number } | undefined {
  const [address = '', length] = entry.split('/');
  const v4 = parseIpv4(address);
  const groups = v4 ? [0, 0, 0, 0, 0, 0xffff, v4[0]! * 256 + v4[1]!, v4[2]! * 256 + v4[3]!] : parseIpv6(address);
  if (!groups) return undefined;
  return { groups, bits: length === undefined ? 128 : Number(length) + (v4 ? 96 : 0) };
}

/** Whether block `outer` holds every address of `inner`. */
function covers(outer: { groups: number[]; bits: number }, inner: { groups: number[]; bits: number }): boolean {
  if (inner.bits < outer.bits) return false;
  for (let bit = 0; bit < outer.bits; bit++) {
    const mask = 0x8000 >> bit % 16;
    if (((outer.groups[Math.floor(bit / 16)] ?? 0) & mask) !== ((inner.groups[Math.floor(bit / 16)] ?? 0) & mask)) return false;
  }
  return true;
}

/** Whether a whitelist text already covers an entry (the same address or block in any spelling, or a block holding it). */
export function whitelistHas(text: string, entry: string): boolean {
  const wanted = block(entry);
  return text.split('\n').some((line) => {
    const item = line.replace(/#.*$/, '').trim();
    const checked = item === '' ? undefined : validateWhitelistEntry(item);
    const listed = checked?.ok ? block(checked.text) : undefined;
    return listed !== undefined && wanted !== undefined && covers(listed, wanted);
  });
}

/** The whitelist with `entry` appended (comments and every other line kept). */
export function addToWhitelist(text: string | undefined, entry: string): string {
  const before = text ?? '';
  return `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${entry}\n`;
}

/** The address of a blacklist line (`timestamp|service|attack|address`), undefined for any other line. */
export function blacklistLineAddress(line: string): string | undefined {
  const fields = line.replace(/\r?\n$/, '').split('|');
  return fields.length === 4 ? fields[3]!.trim() : undefined;
}

/** The addresses a blacklist file lists, in order. */
export function blacklistedAddresses(text: string): string[] {
  return text.split('\n').flatMap((line) => blacklistLineAddress(line) ?? []);
}

/** The blacklist without the lines of `address` (any spelling); the count removed. */
export function removeFromBlacklist(text: string, address: string): { text: string; removed: number } {
  const target = canonicalAddress(address);
  let removed = 0;
  const kept = text.split(/(?<=\n)/).filter((line) => {
    const listed = blacklistLineAddress(line);
    const hit = listed !== undefined && target !== undefined && canonicalAddress(listed) === target;
    if (hit) removed++;
    return !hit;
  });
  return { text: kept.join(''), removed };
}
