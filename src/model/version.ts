/**
 * Version-aware ordering for strings such as OpenSSH's `9.2p1`, `10.0`, `8.9p1`: runs of digits
 * compare as numbers, runs of letters as text, punctuation only separates. A version that is a
 * prefix of another is older (`9.6` < `9.6p1`).
 */
export function compareVersions(a: string, b: string): number {
  const left = versionTokens(a);
  const right = versionTokens(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x < y ? -1 : 1;
    } else if (typeof x === 'number') return 1;
    else if (typeof y === 'number') return -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function versionTokens(text: string): (number | string)[] {
  return (text.match(/[0-9]+|[A-Za-z]+/g) ?? []).map((t) => (/^[0-9]/.test(t) ? Number(t) : t.toLowerCase()));
}
