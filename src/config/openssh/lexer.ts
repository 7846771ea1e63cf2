/**
 * Lossless line lexer shared by sshd_config and ssh_config.
 *
 * OpenSSH reads both files line by line (split on LF only), strips surrounding white space, splits
 * the keyword off at white space or a single `=`, and splits the rest into arguments with quotes
 * and backslash escapes, where `#` at the start of an argument ends the line. This module
 * reproduces that reading while keeping every byte of the line, so that a file rebuilt from its
 * lines is the original text, and so that edits can replace one line and leave the rest alone.
 */

/** The end of a line as it was in the file; `''` only for a last line without a newline. */
export type LineEnding = '\n' | '\r\n' | '';

/** One argument of a directive, with its place in the line text (0-based offsets, end exclusive). */
export interface ArgToken {
  /** The argument after quote removal and escape processing, as OpenSSH sees it. */
  value: string;
  /** The argument as written, quotes and escapes included. */
  raw: string;
  start: number;
  end: number;
}

/** Why a directive line cannot be read the way OpenSSH would read it. */
export type LineProblem = 'missing-argument' | 'unbalanced-quotes' | 'quoted-keyword';

/**
 * One physical line. `text` excludes the line ending; every other field is derived from it.
 * Invariant: `text + eol` is exactly the bytes of the line in the file.
 */
export interface ConfigLine {
  /** 1-based line number in its file. */
  line: number;
  text: string;
  eol: LineEnding;
  kind: 'blank' | 'comment' | 'directive';
  /** The keyword as written (directives only). */
  keyword?: string;
  /** Offsets of the keyword in `text`. */
  keywordStart?: number;
  keywordEnd?: number;
  /**
   * The text after the keyword and its separator, trailing white space removed: what OpenSSH
   * hands to the keyword's handler (ForceCommand and friends take it verbatim).
   */
  rest?: string;
  /** Offset of `rest` in `text`. */
  restStart?: number;
  /** The arguments, split as `argv_split` does (a `#` that starts an argument ends the list). */
  args?: ArgToken[];
  /** Offset of a trailing `# comment` on a directive line, if any. */
  commentStart?: number;
  problem?: LineProblem;
}

const isLeadingSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r';
const isTrailingSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f';
const isDelimSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** Splits a file into lines, keeping each line's ending. */
export function splitLines(text: string): { text: string; eol: LineEnding }[] {
  const out: { text: string; eol: LineEnding }[] = [];
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) {
      if (start < text.length) out.push({ text: text.slice(start), eol: '' });
      break;
    }
    const crlf = nl > start && text[nl - 1] === '\r';
    out.push({ text: text.slice(start, crlf ? nl - 1 : nl), eol: crlf ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return out;
}

/**
 * Splits `s` into arguments the way OpenSSH's `argv_split(..., terminate_on_comment=1)` does.
 * Returns undefined when a quote is left open.
 */
export function splitArguments(s: string, offset = 0): { args: ArgToken[]; commentStart?: number } | undefined {
  const args: ArgToken[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') return { args, commentStart: offset + i };
    const start = i;
    let value = '';
    let quote = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\') {
        const next = s[i + 1];
        if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) {
          i++;
          value += next;
        } else {
          value += ch;
        }
      } else if (quote === '' && (ch === ' ' || ch === '\t')) {
        break;
      } else if (quote === '' && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== '' && ch === quote) {
        quote = '';
      } else {
        value += ch;
      }
    }
    if (quote !== '') return undefined;
    args.push({ value, raw: s.slice(start, i), start: offset + start, end: offset + i });
  }
  return { args };
}

/**
 * Splits a string into words the way OpenSSH's `strdelim` does (white space, a quoted word, or a
 * single `=`), which is how `Match` criteria are read. A `#` word and everything after it are
 * dropped. Returns undefined on an unterminated quote.
 */
export function splitDelimited(s: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < s.length && isDelimSpace(s[i]!)) i++;
  };
  skipSpace();
  while (i < s.length) {
    if (s[i] === '"') {
      const close = s.indexOf('"', i + 1);
      if (close === -1) return undefined;
      words.push(s.slice(i + 1, close));
      i = close + 1;
      skipSpace();
      continue;
    }
    let j = i;
    while (j < s.length && !isDelimSpace(s[j]!) && s[j] !== '"' && s[j] !== '=') j++;
    const word = s.slice(i, j);
    if (word.startsWith('#')) break;
    words.push(word);
    i = j;
    if (s[i] === '=') {
      i++;
      skipSpace();
    } else {
      skipSpace();
      if (s[i] === '=') {
        i++;
        skipSpace();
      }
    }
  }
  return words;
}

/** Reads one line of text (without its ending) as OpenSSH would. */
export function lexLine(text: string, line: number, eol: LineEnding): ConfigLine {
  let begin = 0;
  while (begin < text.length && isLeadingSpace(text[begin]!)) begin++;
  let end = text.length;
  while (end > begin && isTrailingSpace(text[end - 1]!)) end--;
  if (begin >= end) return { line, text, eol, kind: 'blank' };
  if (text[begin] === '#') return { line, text, eol, kind: 'comment' };

  let k = begin;
  while (k < end && !isDelimSpace(text[k]!) && text[k] !== '"' && text[k] !== '=') k++;
  const keyword = text.slice(begin, k);
  const base: ConfigLine = { line, text, eol, kind: 'directive', keyword, keywordStart: begin, keywordEnd: k };
  if (text[k] === '"') return { ...base, problem: 'quoted-keyword', rest: '', restStart: k, args: [] };
  if (keyword === '') {
    // A line that starts with `=`: OpenSSH reads an empty keyword and rejects it.
    return { ...base, rest: text.slice(k + 1, end), restStart: k + 1, args: [] };
  }

  // Separator: white space, then optionally one `=` and more white space; or `=` then white space.
  let r = k;
  if (text[r] === '=') {
    r++;
    while (r < end && isDelimSpace(text[r]!)) r++;
  } else {
    while (r < end && isDelimSpace(text[r]!)) r++;
    if (text[r] === '=') {
      r++;
      while (r < end && isDelimSpace(text[r]!)) r++;
    }
  }
  const rest = text.slice(r, end);
  if (rest === '') return { ...base, rest, restStart: r, args: [], problem: 'missing-argument' };
  const split = splitArguments(rest, r);
  if (!split) return { ...base, rest, restStart: r, args: [], problem: 'unbalanced-quotes' };
  const out: ConfigLine = { ...base, rest, restStart: r, args: split.args };
  if (split.commentStart !== undefined) out.commentStart = split.commentStart;
  return out;
}

/**
 * Files lexed recently, by text, least recently used first: planning rebuilds a host's config
 * tree after every edit with most files unchanged, and the hosts of a fleet mostly share their
 * files. Lines are never changed after lexing (edits make new ones), so calls can share them.
 * The budget (in characters of text; the lines take a few times that) bounds the memory when
 * every host differs.
 */
const lexedFiles = new Map<string, readonly ConfigLine[]>();
const LEXED_CHARS_BUDGET = 1 << 20;
let lexedChars = 0;

function rememberLexed(text: string, lines: readonly ConfigLine[]): void {
  if (text.length > LEXED_CHARS_BUDGET / 16) return;
  lexedFiles.set(text, lines);
  lexedChars += text.length;
  for (const old of lexedFiles.keys()) {
    if (lexedChars <= LEXED_CHARS_BUDGET) break;
    lexedFiles.delete(old);
    lexedChars -= old.length;
  }
}

/**
 * Reads a whole file into lines. `linesToText(lexText(x))` is `x`, byte for byte. The array is
 * the caller's; the line objects may be shared with other calls and must not be modified.
 */
export function lexText(text: string): ConfigLine[] {
  const known = lexedFiles.get(text);
  if (known) {
    lexedFiles.delete(text);
    lexedFiles.set(text, known);
    return [...known];
  }
  const lines = splitLines(text).map((l, i) => lexLine(l.text, i + 1, l.eol));
  rememberLexed(text, lines);
  return [...lines];
}

/** Rebuilds the file text from its lines. */
export function linesToText(lines: readonly ConfigLine[]): string {
  let out = '';
  for (const l of lines) out += l.text + l.eol;
  return out;
}

/** Quotes an argument for a config file when OpenSSH would otherwise split or alter it. */
export function quoteArgument(value: string): string {
  if (value !== '' && !/[\s"'\\#]/.test(value)) return value;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
