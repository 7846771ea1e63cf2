import { Document, isScalar, type ScalarTag } from 'yaml';
import type { Diagnostic, SourcePosition, SourceRange } from '../util/diagnostics.js';
import type { ParsedYaml, ScalarValue, YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq } from './yaml-nodes.js';

/**
 * A reader for the plain block style that large generated inventories and playbooks are written
 * in: block mappings and lists, one-line plain and quoted scalars (no escapes), one-line flow
 * lists and mappings, comments between entries. On the load benchmark's 5 MB files it takes
 * 0.2-0.5 s of CPU where the YAML library's lexer, syntax tree and document model take 2.7-3.6 s
 * and most of the memory. Anything outside that subset (anchors, tags, block scalars, multi-line
 * scalars, escapes, tabs, document markers, a comment where a collection ends, keys that are not
 * strings, empty list items, nesting deeper than 40) makes it decline, and the caller parses with
 * the library, which also reports every syntax error. It returns exactly what the library path
 * returns (the same tree, the same positions, the same duplicate-key diagnostics):
 * test/unit/model/yaml-plain-block.test.ts compares the two.
 */
export function readPlainBlockYaml(text: string, file: string): ParsedYaml | undefined {
  // Characters that YAML treats specially (line breaks other than \n, BOM, tabs, controls) or
  // that the library may reject: left to the library.
  if (UNUSUAL_CHARACTERS.test(text)) return undefined;
  try {
    return new PlainBlockReader(text, file).read();
  } catch (error) {
    if (error instanceof Declined) return undefined;
    throw error;
  }
}

/** A key written twice in one mapping: reported at the second, naming where the first stands. */
export function duplicateKey(file: string, key: string, first: SourceRange, second: SourceRange): Diagnostic {
  return {
    severity: 'error',
    code: 'duplicate-key',
    message: `duplicate key "${key}" (first at line ${first.start.line}, column ${first.start.column})`,
    hint: 'each key may appear once in a mapping; merge the two entries',
    file,
    range: second,
  };
}

/** Tabs, \r, C0/C1 controls, DEL, line/paragraph separators, BOM, surrogates, non-characters. */
const UNUSUAL_CHARACTERS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]/;

/** Deeper than this, the library path (and its depth limit) takes over. */
const MAX_DEPTH = 40;

class Declined extends Error {}
const decline = (): never => {
  throw new Declined();
};

const SPACE = 0x20;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;

/** Characters that start something other than a plain scalar (the library's indicators). */
const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));
/** Characters that end a plain scalar inside a flow collection, or make it ambiguous there. */
const FLOW_SPECIAL = new Set([...',[]{}:#\'"'].map((c) => c.charCodeAt(0)));

/**
 * The core schema's implicit tags, as the library resolves plain scalars with them. Only plain
 * scalars starting with one of these characters (or empty) can resolve to anything but a string.
 */
const DOCUMENT = new Document(null, { version: '1.2' });
const IMPLICIT_TAGS = DOCUMENT.schema.tags.filter((tag): tag is ScalarTag => tag.default === true && tag.test !== undefined && !('collection' in tag && tag.collection));
const MAYBE_NOT_STRING = new Set([...'~nNtTfF0123456789+-.'].map((c) => c.charCodeAt(0)));

function resolvePlain(raw: string): ScalarValue {
  if (raw !== '' && !MAYBE_NOT_STRING.has(raw.charCodeAt(0))) return raw;
  for (const tag of IMPLICIT_TAGS) {
    if (!tag.test!.test(raw)) continue;
    const resolved: unknown = tag.resolve(raw, decline, DOCUMENT.options);
    const value: unknown = isScalar(resolved) ? resolved.value : resolved;
    if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
    return decline();
  }
  return raw;
}

interface Inline {
  node: YamlNode;
  /** The offset just after the value. */
  after: number;
}

class PlainBlockReader {
  private readonly length: number;
  private readonly diagnostics: Diagnostic[] = [];
  /** The current content line: where it starts, its first non-space, where it ends (its \n or the text's end), its number. */
  private lineStart = 0;
  private content = 0;
  private lineEnd = -1;
  private lineNo = 0;
  private indent = 0;
  private eof = false;
  /** Comment lines stand between the previous content line and the current one (or the end). */
  private commentBefore = false;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    this.length = text.length;
  }

  read(): ParsedYaml {
    this.advance();
    if (this.eof || this.indent !== 0) return decline();
    const root = this.isDash(this.content) ? this.blockSeq(0, 1).node : this.looksLikeKey(this.content) ? this.blockMap(0, this.content, 1).node : decline();
    if (!this.eof) decline();
    return { root, diagnostics: this.diagnostics };
  }

  /**
   * Moves to the next line with content, over blank and comment lines. Comments are fine between
   * the entries of a collection; where one ends, the library counts them into its extent in ways
   * not worth copying, so the collections decline (see `ended`).
   */
  private advance(): void {
    const { text, length } = this;
    let comment = false;
    let start = this.lineEnd + 1;
    let no = this.lineNo + 1;
    while (start < length) {
      let first = start;
      while (first < length && text.charCodeAt(first) === SPACE) first++;
      let end = text.indexOf('\n', first);
      if (end < 0) end = length;
      if (first === end || text.charCodeAt(first) === HASH) {
        if (first !== end) comment = true;
        start = end + 1;
        no++;
        continue;
      }
      if (first === start && (text.startsWith('---', start) || text.startsWith('...', start))) decline();
      this.lineStart = start;
      this.content = first;
      this.lineEnd = end;
      this.lineNo = no;
      this.indent = first - start;
      this.commentBefore = comment;
      return;
    }
    this.commentBefore = comment;
    this.eof = true;
  }

  /** A collection ends before the current line (or the end of the text). */
  private ended(): void {
    if (this.commentBefore) decline();
  }

  private at(offset: number): SourcePosition {
    return { line: this.lineNo, column: offset - this.lineStart + 1 };
  }

  /** Where a value that ends its line ends, with its trailing comment and line break. */
  private afterLine(): SourcePosition {
    return this.lineEnd < this.length ? { line: this.lineNo + 1, column: 1 } : this.at(this.length);
  }

  private isDash(offset: number): boolean {
    return this.text.charCodeAt(offset) === DASH && (offset + 1 === this.lineEnd || this.text.charCodeAt(offset + 1) === SPACE);
  }

  /** The offset of the closing quote of a one-line quoted scalar opening at `open`. */
  private closingQuote(open: number): number {
    const { text } = this;
    const quote = text.charCodeAt(open);
    if (quote === DOUBLE_QUOTE) {
      const close = this.find(DOUBLE_QUOTE, open + 1);
      if (close < 0) return decline();
      const backslash = this.find(BACKSLASH, open + 1);
      if (backslash >= 0 && backslash < close) decline();
      return close;
    }
    let from = open + 1;
    for (;;) {
      const close = this.find(SINGLE_QUOTE, from);
      if (close < 0) return decline();
      if (text.charCodeAt(close + 1) !== SINGLE_QUOTE) return close;
      from = close + 2;
    }
  }

  /** The offset of the `:` ending a block mapping key that starts at `offset`, or -1 when the line holds no key there. */
  private keyColon(offset: number): number {
    const { text } = this;
    const first = text.charCodeAt(offset);
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
      const close = this.closingQuote(offset);
      const colon = close + 1;
      return text.charCodeAt(colon) === COLON && (colon + 1 === this.lineEnd || text.charCodeAt(colon + 1) === SPACE) ? colon : -1;
    }
    if (INDICATORS.has(first)) return -1;
    const stop = this.commentStart(offset);
    for (let colon = this.find(COLON, offset); colon >= 0 && colon < stop; colon = this.find(COLON, colon + 1)) {
      if (colon + 1 === this.lineEnd || text.charCodeAt(colon + 1) === SPACE) return colon;
    }
    return -1;
  }

  private looksLikeKey(offset: number): boolean {
    return this.keyColon(offset) >= 0;
  }

  /** A block mapping whose keys stand at column `indent` (0-based), the first at `firstKey` on the current line. */
  private blockMap(indent: number, firstKey: number, depth: number): { node: YamlMap; end: SourcePosition } {
    if (depth > MAX_DEPTH) decline();
    const { text } = this;
    const start = this.at(firstKey);
    const pairs: YamlPair[] = [];
    const seen = new Map<string, SourceRange>();
    let end = start;
    let keyAt = firstKey;
    let lastEmptyCommented = false;
    for (;;) {
      lastEmptyCommented = false;
      const colon = this.keyColon(keyAt);
      if (colon < 0 || colon - keyAt > 1000) decline();
      const { key, keyRange } = this.readKey(keyAt, colon);
      let valueAt = colon + 1;
      while (valueAt < this.lineEnd && text.charCodeAt(valueAt) === SPACE) valueAt++;
      let value: YamlNode;
      if (valueAt === this.lineEnd || text.charCodeAt(valueAt) === HASH) {
        const empty = this.at(valueAt);
        const commented = valueAt < this.lineEnd;
        this.advance();
        if (!this.eof && this.indent > indent) {
          const nested = this.isDash(this.content) ? this.blockSeq(this.indent, depth + 1) : this.blockMap(this.indent, this.content, depth + 1);
          value = nested.node;
          end = nested.end;
        } else if (!this.eof && this.indent === indent && this.isDash(this.content)) {
          const nested = this.blockSeq(indent, depth + 1);
          value = nested.node;
          end = nested.end;
        } else {
          value = { type: 'scalar', value: null, text: '', range: { start: empty, end: empty } };
          end = empty;
          // The library stretches the mapping over a commented empty last value and the blank
          // lines after it.
          lastEmptyCommented = commented;
        }
      } else {
        value = this.lineValue(valueAt, depth + 1);
        end = this.afterLine();
        this.advance();
        if (!this.eof && this.indent > indent) decline();
      }
      const first = seen.get(key);
      if (first !== undefined) this.diagnostics.push(duplicateKey(this.file, key, first, keyRange));
      else {
        seen.set(key, keyRange);
        pairs.push({ key, keyRange, value });
      }
      if (this.eof || this.indent < indent) break;
      if (this.indent > indent || this.isDash(this.content)) decline();
      keyAt = this.content;
    }
    if (lastEmptyCommented) decline();
    this.ended();
    return { node: { type: 'map', pairs, range: { start, end } }, end };
  }

  /** A block list whose dashes stand at column `indent`; the current line is its first item. */
  private blockSeq(indent: number, depth: number): { node: YamlSeq; end: SourcePosition } {
    if (depth > MAX_DEPTH) decline();
    const { text } = this;
    const start = this.at(this.content);
    const items: YamlNode[] = [];
    let end = start;
    for (;;) {
      let valueAt = this.content + 1;
      while (valueAt < this.lineEnd && text.charCodeAt(valueAt) === SPACE) valueAt++;
      if (valueAt === this.lineEnd || text.charCodeAt(valueAt) === HASH || this.isDash(valueAt)) decline();
      if (this.looksLikeKey(valueAt)) {
        const map = this.blockMap(valueAt - this.lineStart, valueAt, depth + 1);
        items.push(map.node);
        end = map.end;
      } else {
        items.push(this.lineValue(valueAt, depth + 1));
        end = this.afterLine();
        this.advance();
        if (!this.eof && this.indent > indent) decline();
      }
      if (this.eof || this.indent < indent) break;
      if (this.indent > indent) decline();
      // A key at the list's own column: the list was a mapping value, and the mapping goes on.
      if (!this.isDash(this.content)) break;
    }
    this.ended();
    return { node: { type: 'seq', items, range: { start, end } }, end };
  }

  private readKey(offset: number, colon: number): { key: string; keyRange: SourceRange } {
    const { text } = this;
    const first = text.charCodeAt(offset);
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
      const quoted = this.quoted(offset);
      return { key: quoted.node.type === 'scalar' ? String(quoted.node.value) : decline(), keyRange: quoted.node.range };
    }
    let keyEnd = colon;
    while (keyEnd > offset && text.charCodeAt(keyEnd - 1) === SPACE) keyEnd--;
    const key = resolvePlain(text.slice(offset, keyEnd));
    if (typeof key !== 'string') decline();
    return { key: key as string, keyRange: { start: this.at(offset), end: this.at(keyEnd) } };
  }

  /** A value that ends its line: a plain or quoted scalar, or a flow collection, and maybe a comment. */
  private lineValue(offset: number, depth: number): YamlNode {
    const { text } = this;
    const first = text.charCodeAt(offset);
    let inline: Inline;
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) inline = this.quoted(offset);
    else if (first === 0x5b || first === 0x7b) inline = this.flow(offset, depth);
    else if (INDICATORS.has(first)) return decline();
    else {
      let valueEnd = this.commentStart(offset);
      while (text.charCodeAt(valueEnd - 1) === SPACE) valueEnd--;
      for (let colon = this.find(COLON, offset); colon >= 0 && colon < valueEnd; colon = this.find(COLON, colon + 1)) {
        if (colon + 1 === valueEnd || text.charCodeAt(colon + 1) === SPACE) decline();
      }
      return this.plainScalar(offset, valueEnd);
    }
    let rest = inline.after;
    while (rest < this.lineEnd && text.charCodeAt(rest) === SPACE) rest++;
    if (rest < this.lineEnd && (rest === inline.after || text.charCodeAt(rest) !== HASH)) decline();
    return inline.node;
  }

  private plainScalar(start: number, end: number): YamlScalar {
    const written = this.text.slice(start, end);
    const value = resolvePlain(written);
    const range = { start: this.at(start), end: this.at(end) };
    if (typeof value === 'string') return { type: 'scalar', value, text: value, range, valueStart: range.start };
    return { type: 'scalar', value, text: value === null ? '' : written, range };
  }

  private quoted(open: number): Inline {
    const close = this.closingQuote(open);
    const written = this.text.slice(open + 1, close);
    const single = this.text.charCodeAt(open) === SINGLE_QUOTE;
    const value = single ? written.replaceAll("''", "'") : written;
    const range = { start: this.at(open), end: this.at(close + 1) };
    const node: YamlScalar = { type: 'scalar', value, text: value, range };
    if (value === written) node.valueStart = this.at(open + 1);
    return { node, after: close + 1 };
  }

  /** A flow list or mapping that opens and closes on the current line. */
  private flow(open: number, depth: number): Inline {
    if (depth > MAX_DEPTH) decline();
    const { text } = this;
    const isMap = text.charCodeAt(open) === 0x7b;
    const closer = isMap ? 0x7d : 0x5d;
    const items: YamlNode[] = [];
    const pairs: YamlPair[] = [];
    const seen = new Map<string, SourceRange>();
    let at = this.skipSpaces(open + 1);
    if (text.charCodeAt(at) !== closer) {
      for (;;) {
        if (isMap) {
          const keyItem = this.flowItem(at, depth + 1, true);
          if (keyItem.node.type !== 'scalar' || typeof keyItem.node.value !== 'string') return decline();
          if (text.charCodeAt(keyItem.after) !== COLON || text.charCodeAt(keyItem.after + 1) !== SPACE) decline();
          const key = keyItem.node.value;
          const keyRange = keyItem.node.range;
          const valueAt = this.skipSpaces(keyItem.after + 1);
          const item = this.flowItem(valueAt, depth + 1);
          const first = seen.get(key);
          if (first !== undefined) this.diagnostics.push(duplicateKey(this.file, key, first, keyRange));
          else {
            seen.set(key, keyRange);
            pairs.push({ key, keyRange, value: item.node });
          }
          at = this.skipSpaces(item.after);
        } else {
          const item = this.flowItem(at, depth + 1);
          items.push(item.node);
          at = this.skipSpaces(item.after);
          if (text.charCodeAt(at) === COLON) decline();
        }
        const next = text.charCodeAt(at);
        if (next === closer) break;
        if (next !== 0x2c) decline();
        at = this.skipSpaces(at + 1);
        if (text.charCodeAt(at) === closer) decline();
      }
    }
    if (at >= this.lineEnd) decline();
    const range = { start: this.at(open), end: this.at(at + 1) };
    const node: YamlNode = isMap ? { type: 'map', pairs, range } : { type: 'seq', items, range };
    return { node, after: at + 1 };
  }

  /** An entry of a flow collection: a quoted scalar, a nested flow collection or a plain scalar free of flow indicators. */
  private flowItem(offset: number, depth: number, isKey = false): Inline {
    const { text } = this;
    if (offset >= this.lineEnd) decline();
    const first = text.charCodeAt(offset);
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) return this.quoted(offset);
    if (first === 0x5b || first === 0x7b) return this.flow(offset, depth);
    if (INDICATORS.has(first)) decline();
    let end = offset;
    while (end < this.lineEnd) {
      const c = text.charCodeAt(end);
      if (c === 0x2c || c === 0x5d || c === 0x7d || (isKey && c === COLON)) break;
      if (FLOW_SPECIAL.has(c) || c === BACKSLASH) decline();
      end++;
    }
    let valueEnd = end;
    while (text.charCodeAt(valueEnd - 1) === SPACE) valueEnd--;
    return { node: this.plainScalar(offset, valueEnd), after: valueEnd };
  }

  /** The first `char` in [from, end of the current line), or -1 (indexOf would search the rest of the file). */
  private find(char: number, from: number): number {
    for (let i = from; i < this.lineEnd; i++) if (this.text.charCodeAt(i) === char) return i;
    return -1;
  }

  /** Where a comment (` #`) starts on the current line after `from`, or the line's end. */
  private commentStart(from: number): number {
    for (let hash = this.find(HASH, from); hash >= 0; hash = this.find(HASH, hash + 1)) {
      if (hash > from && this.text.charCodeAt(hash - 1) === SPACE) return hash - 1;
    }
    return this.lineEnd;
  }

  private skipSpaces(offset: number): number {
    while (offset < this.lineEnd && this.text.charCodeAt(offset) === SPACE) offset++;
    return offset;
  }
}
