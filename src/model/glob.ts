/**
 * Shell-style globs for host names: `*` (any run), `?` (one character), `[abc]`, `[a-z]`, `[!x]`.
 * A bracket that holds a colon is a host range, not a character class (see host-range.ts).
 */

export type GlobResult = { regexp: RegExp } | { error: { message: string; from: number; to: number } };

/** True when `text` uses glob syntax. */
export function isGlob(text: string): boolean {
  return /[*?[]/.test(text);
}

/** Compiles a glob into an anchored regular expression. */
export function compileGlob(glob: string): GlobResult {
  let source = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) return { error: { message: 'unclosed "[" in glob', from: i, to: i + 1 } };
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      if (body === '') return { error: { message: 'empty character class in glob', from: i, to: close + 1 } };
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return { regexp: new RegExp(`${source}$`) };
}
