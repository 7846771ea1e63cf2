/**
 * sshguard's hosts backend (`sshg-fw-hosts`) blocks in /etc/hosts.allow: at start it puts two
 * marker lines `###sshguard###` at the top of the file, and on every change it rewrites what lies
 * between them from its memory as `ALL : a b ... : DENY` lines (eight addresses a line, IPv6 as
 * `[addr]`). It finds its block by comparing whole lines with the marker, so a marker with CRLF or
 * trailing blanks is not one. The markers are comments to libwrap; the lines between them are
 * ordinary rules, and they stand first, so they refuse before anything else can grant.
 *
 * While sshguard runs, it rewrites the block on its next block or release from what it holds in
 * memory: removing an address from the file lifts the block only until then (the sshguard task
 * must also make sshguard forget it).
 */
import { canonicalAddress } from './match.js';
import { parseHostsAccess, stringifyHostsAccess, type HostsAccessEntry, type HostsAccessFile, type HostsAccessToken } from './parse.js';

export const SSHGUARD_MARKER = '###sshguard###';

/** One client item inside the block. */
export interface SshguardBlockItem {
  /** As written (`192.0.2.7`, `[2001:db8::7]`). */
  text: string;
  /** Canonical address, when the item is one. */
  address?: string;
  entryIndex: number;
  token: HostsAccessToken;
}

export interface SshguardBlock {
  /** Index in `file.entries` of the opening marker. */
  openIndex: number;
  /** Index of the closing marker; undefined when the block is not closed (sshguard calls it malformed). */
  closeIndex?: number;
  /** 1-based lines of the markers. */
  openLine: number;
  closeLine?: number;
  items: SshguardBlockItem[];
}

const isMarker = (e: HostsAccessEntry): boolean => e.raw === `${SSHGUARD_MARKER}\n` || (e.raw === SSHGUARD_MARKER && e.problem === 'missing-newline');

/** The address an item of a block line stands for (`[v6]` or a plain address). */
function itemAddress(text: string): string | undefined {
  if (text.startsWith('[') && text.endsWith(']')) {
    const inner = text.slice(1, -1);
    return inner.includes(':') ? canonicalAddress(inner) : undefined;
  }
  return text.includes(':') ? undefined : canonicalAddress(text);
}

/** The first sshguard block of a hosts.allow (sshguard uses the first opening marker). */
export function findSshguardBlock(file: HostsAccessFile): SshguardBlock | undefined {
  const openIndex = file.entries.findIndex(isMarker);
  if (openIndex === -1) return undefined;
  const block: SshguardBlock = { openIndex, openLine: file.entries[openIndex]!.line, items: [] };
  for (let i = openIndex + 1; i < file.entries.length; i++) {
    const e = file.entries[i]!;
    if (isMarker(e)) {
      block.closeIndex = i;
      block.closeLine = e.line;
      return block;
    }
    for (const token of e.clients) {
      const address = itemAddress(token.value);
      block.items.push(address === undefined ? { text: token.value, entryIndex: i, token } : { text: token.value, address, entryIndex: i, token });
    }
  }
  return block;
}

/** Whether an entry index lies inside the block (markers included). */
export function insideSshguardBlock(block: SshguardBlock | undefined, index: number): boolean {
  if (!block) return false;
  return index >= block.openIndex && index <= (block.closeIndex ?? Number.POSITIVE_INFINITY);
}

/** The addresses the block holds, canonical, in file order, each once. */
export function sshguardBlockedAddresses(text: string, path = '/etc/hosts.allow'): string[] {
  const block = findSshguardBlock(parseHostsAccess(text, path));
  const out: string[] = [];
  for (const item of block?.items ?? []) if (item.address !== undefined && !out.includes(item.address)) out.push(item.address);
  return out;
}

/** The offset in an entry's raw text of an offset in its logical text (each continuation adds `\` and a newline). */
function rawOffset(entry: HostsAccessEntry, offset: number): number {
  let k = 0;
  entry.lineStarts.forEach(([start], i) => {
    if (start <= offset) k = i;
  });
  return offset + 2 * k;
}

export interface SshguardRemoval {
  text: string;
  /** How many items were removed (0: the block does not hold the address; `text` is the input). */
  removed: number;
  /** Lines of the block whose last address went, and which were dropped. */
  droppedLines: number[];
}

/**
 * Removes an address from the block: the item goes with the blank before it, and a block line
 * left without addresses goes too. Everything else keeps its bytes.
 */
export function removeFromSshguardBlock(text: string, address: string, path = '/etc/hosts.allow'): SshguardRemoval {
  const target = canonicalAddress(address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address);
  const file = parseHostsAccess(text, path);
  const block = findSshguardBlock(file);
  const hits = (block?.items ?? []).filter((i) => target !== undefined && i.address === target);
  if (!block || hits.length === 0) return { text, removed: 0, droppedLines: [] };
  const entries = [...file.entries];
  const droppedLines: number[] = [];
  const byEntry = new Map<number, SshguardBlockItem[]>();
  for (const h of hits) byEntry.set(h.entryIndex, [...(byEntry.get(h.entryIndex) ?? []), h]);
  for (const [index, items] of byEntry) {
    const entry = entries[index]!;
    const addressesLeft = block.items.filter((i) => i.entryIndex === index && !items.includes(i));
    if (addressesLeft.length === 0) {
      droppedLines.push(entry.line);
      entries[index] = { ...entry, raw: '' };
      continue;
    }
    let raw = entry.raw;
    for (const item of [...items].sort((a, b) => b.token.start - a.token.start)) {
      let start = item.token.start;
      while (start > 0 && (entry.logical[start - 1] === ' ' || entry.logical[start - 1] === '\t')) start--;
      raw = raw.slice(0, rawOffset(entry, start)) + raw.slice(rawOffset(entry, item.token.end));
    }
    entries[index] = { ...entry, raw };
  }
  return { text: stringifyHostsAccess({ path, entries }), removed: hits.length, droppedLines };
}
