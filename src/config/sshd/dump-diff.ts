/**
 * What a change did to the whole effective config: the global `sshd -T` before and after,
 * compared keyword by keyword, against the keywords the plan meant to change. Verification
 * checks the planned values; this catches everything else (a directive that came along with a
 * value, an edit in the wrong place), which would otherwise pass unnoticed.
 */

/** One keyword whose printed values differ. */
export interface SshdDumpChange {
  /** As `sshd -T` prints it (lowercase). */
  keyword: string;
  /** Empty when the keyword was not printed. */
  before: string[];
  after: string[];
}

/**
 * Keywords `sshd -T` prints from others too, checked against OpenSSH 9.2: it prints each listen
 * address with the port (`listenaddress 0.0.0.0:2222` after `Port 2222`) and only for the address
 * family (`AddressFamily inet` drops `[::]:22`).
 */
const MOVES_WITH: Readonly<Record<string, readonly string[]>> = {
  port: ['listenaddress'],
  addressfamily: ['listenaddress'],
};

/**
 * The keywords whose values differ between two parsed `sshd -T` dumps (keyword -> values in
 * order) and that `planned` (dump names, any case) does not cover, sorted by keyword.
 */
export function diffSshdDumps(
  before: ReadonlyMap<string, readonly string[]>,
  after: ReadonlyMap<string, readonly string[]>,
  planned: Iterable<string>,
): SshdDumpChange[] {
  const covered = new Set<string>();
  for (const keyword of planned) {
    const lower = keyword.toLowerCase();
    covered.add(lower);
    for (const other of MOVES_WITH[lower] ?? []) covered.add(other);
  }
  const changes: SshdDumpChange[] = [];
  for (const keyword of new Set([...before.keys(), ...after.keys()])) {
    if (covered.has(keyword)) continue;
    const was = before.get(keyword) ?? [];
    const now = after.get(keyword) ?? [];
    if (was.length === now.length && was.every((v, i) => v === now[i])) continue;
    changes.push({ keyword, before: [...was], after: [...now] });
  }
  return changes.sort((a, b) => a.keyword.localeCompare(b.keyword));
}
