import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  visit,
  YAMLParseError,
  type Alias,
  type CST,
  type Document,
  type Node as YamlLibNode,
} from 'yaml';
import type { Diagnostic, SourcePosition, SourceRange } from '../util/diagnostics.js';
import { duplicateKey, readPlainBlockYaml } from './yaml-plain-block.js';
import type { ParsedYaml, ScalarValue, YamlNode, YamlPair, YamlScalar } from './yaml-nodes.js';

type CstToken = CST.Token;

export type { ParsedYaml, ScalarValue, YamlMap, YamlNode, YamlPair, YamlScalar, YamlSeq } from './yaml-nodes.js';

/**
 * Aliases can multiply a small file into a huge tree (a "billion laughs"): past this many nodes
 * made by expanding aliases we stop. Nodes written out in the file do not count; their number is
 * bounded by the file's size.
 */
export const MAX_ALIAS_NODES = 200_000;

/**
 * How deeply mappings and lists may nest, in the file and after expanding aliases. Real
 * inventories and playbooks stay under ten; the YAML library and every walk over the tree recurse,
 * so a file nested thousands deep would exhaust the stack.
 */
export const MAX_YAML_DEPTH = 100;

const PARSE_OPTIONS = { prettyErrors: false, uniqueKeys: false, strict: true, merge: false, version: '1.2' } as const;

/**
 * Parses one YAML document (YAML 1.2 core schema: `yes` stays a string, `true` is a boolean).
 * Syntax problems come back as diagnostics; when there are any besides duplicate keys, the tree
 * is not returned, because what the parser recovered would only produce misleading follow-ups.
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  // Large generated files are plain block style, which a dedicated reader handles in a fraction
  // of the library's time and memory; it declines everything else.
  return readPlainBlockYaml(text, file) ?? parseYamlWithLibrary(text, file);
}

/** `parseYaml` through the YAML library alone, whatever the style (exported for the test that compares the two readers). */
export function parseYamlWithLibrary(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const toPosition = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return line === 0 ? { line: 1, column: offset + 1 } : { line, column: col };
  };
  const toRange = (start: number, end: number): SourceRange => ({ start: toPosition(start), end: toPosition(end) });

  // The syntax tree first, so that nesting too deep for the library's recursive composer is
  // refused before it runs.
  const cst = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const tooDeep = firstTooDeep(cst);
  if (tooDeep !== undefined) return { diagnostics: [tooDeepDiagnostic(file, toRange(tooDeep, tooDeep + 1))] };
  const doc = composeOne(cst, text.length);

  const diagnostics: Diagnostic[] = [];
  let fatal = false;
  for (const error of doc.errors) {
    const [start, end] = error.pos;
    const code = yamlErrorCode(error.code);
    fatal = true;
    diagnostics.push({
      severity: 'error',
      code,
      message: code === 'yaml-multiple-documents' ? 'the file holds more than one YAML document' : firstLine(error.message),
      file,
      range: toRange(start, Math.max(end, start + 1)),
      ...(code === 'yaml-multiple-documents' ? { hint: 'remove the `---` separator: one file holds one inventory or one playbook' } : {}),
    });
  }
  for (const warning of doc.warnings) {
    const [start, end] = warning.pos;
    diagnostics.push({
      severity: 'warning',
      code: 'yaml-warning',
      message: firstLine(warning.message),
      file,
      range: toRange(start, Math.max(end, start + 1)),
    });
  }
  if (fatal || doc.contents === null) return { diagnostics };

  const converter = new TreeConverter(doc, text, file, toRange, diagnostics);
  const root = converter.convert(doc.contents as YamlLibNode, toRange(0, 0), 1);
  if (converter.refused) return { diagnostics };
  return { root, diagnostics };
}

/** The first document of the stream, with an error when more follow (as `parseDocument` does). */
function composeOne(cst: readonly CstToken[], length: number): Document {
  let doc: Document | undefined;
  for (const next of new Composer(PARSE_OPTIONS).compose(cst, true, length)) {
    if (doc === undefined) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'more than one document'));
      break;
    }
  }
  // compose(..., forceDoc = true) always yields a document.
  return doc as Document;
}

/**
 * The offset of the first mapping or list nested deeper than MAX_YAML_DEPTH in the syntax tree,
 * found without recursion (the point is to survive any depth).
 */
function firstTooDeep(cst: readonly CstToken[]): number | undefined {
  // Only documents and collections go on the stack: scalars cannot make anything deeper.
  const tokens: CstToken[] = [];
  const depths: number[] = [];
  const push = (token: CstToken | null | undefined, depth: number): void => {
    if (!token) return;
    if (token.type === 'document' || token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      tokens.push(token);
      depths.push(depth);
    }
  };
  for (const token of cst) push(token, 0);
  for (let token = tokens.pop(); token !== undefined; token = tokens.pop()) {
    const depth = depths.pop()!;
    if (token.type === 'document') push(token.value, depth);
    else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > MAX_YAML_DEPTH) return token.offset;
      for (const item of token.items) {
        push(item.key, depth + 1);
        push(item.value, depth + 1);
      }
    }
  }
  return undefined;
}

function tooDeepDiagnostic(file: string, range: SourceRange): Diagnostic {
  return {
    severity: 'error',
    code: 'yaml-too-deep',
    message: `mappings and lists nest more than ${MAX_YAML_DEPTH} levels deep here`,
    hint: 'flatten the structure; through aliases, nesting adds up',
    file,
    range,
  };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function yamlErrorCode(code: string): string {
  switch (code) {
    case 'MULTIPLE_DOCS':
      return 'yaml-multiple-documents';
    case 'RESOURCE_EXHAUSTION':
      return 'yaml-too-large';
    default:
      return 'yaml-syntax';
  }
}

class TreeConverter {
  /** Nodes made by expanding aliases so far. */
  private aliasNodes = 0;
  /** Set when the tree is refused (too many alias nodes, too deep): the caller drops it. */
  refused = false;
  /** How many aliases are being expanded around the node being converted. */
  private expanding = 0;
  private readonly resolving = new Set<YamlLibNode>();
  private targets: Map<Alias, YamlLibNode> | undefined;

  constructor(
    private readonly doc: Document,
    private readonly text: string,
    private readonly file: string,
    private readonly toRange: (start: number, end: number) => SourceRange,
    private readonly diagnostics: Diagnostic[],
  ) {}

  private refuse(diagnostic: Diagnostic): void {
    if (this.refused) return;
    this.refused = true;
    this.diagnostics.push(diagnostic);
  }

  /**
   * What every alias refers to: the last node with its anchor before it in document order, as
   * YAML defines it. Found in one walk; `Alias.resolve` walks the whole document for each alias.
   */
  private aliasTarget(alias: Alias): YamlLibNode | undefined {
    if (this.targets === undefined) {
      const targets = new Map<Alias, YamlLibNode>();
      const anchors = new Map<string, YamlLibNode>();
      visit(this.doc, {
        Node: (_key, node) => {
          if (isAlias(node)) {
            const target = anchors.get(node.source);
            if (target) targets.set(node, target);
          } else if (node.anchor) anchors.set(node.anchor, node);
        },
      });
      this.targets = targets;
    }
    return this.targets.get(alias);
  }

  convert(node: YamlLibNode | null | undefined, fallback: SourceRange, depth: number): YamlNode {
    if (this.expanding > 0 && ++this.aliasNodes > MAX_ALIAS_NODES) {
      this.refuse({
        severity: 'error',
        code: 'yaml-too-large',
        message: `aliases expand the document by more than ${MAX_ALIAS_NODES} nodes`,
        file: this.file,
        range: fallback,
      });
    }
    if (this.refused || node === null || node === undefined) {
      return { type: 'scalar', value: null, text: '', range: fallback };
    }
    const range = node.range ? this.toRange(node.range[0], node.range[1]) : fallback;
    if (isAlias(node)) {
      const target = this.aliasTarget(node);
      if (!target || this.resolving.has(target)) {
        this.diagnostics.push({
          severity: 'error',
          code: 'yaml-syntax',
          message: `alias *${node.source} refers to ${target ? 'a node that contains it' : 'an unknown anchor'}`,
          file: this.file,
          range,
        });
        return { type: 'scalar', value: null, text: '', range };
      }
      this.resolving.add(target);
      this.expanding++;
      const resolved = this.convert(target, range, depth);
      this.expanding--;
      this.resolving.delete(target);
      return resolved;
    }
    if (isScalar(node)) return this.convertScalar(node.value, node.source, node.type, node.range, range);
    if ((isMap(node) || isSeq(node)) && depth > MAX_YAML_DEPTH) {
      this.refuse(tooDeepDiagnostic(this.file, range));
      return { type: 'scalar', value: null, text: '', range };
    }
    if (isMap(node)) {
      const pairs: YamlPair[] = [];
      const seen = new Map<string, SourceRange>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as YamlLibNode | null;
        const keyRange = keyNode?.range ? this.toRange(keyNode.range[0], keyNode.range[1]) : range;
        const key = isScalar(keyNode) ? keyNode.value : undefined;
        if (key === null || key === undefined || typeof key === 'object') {
          this.diagnostics.push({
            severity: 'error',
            code: 'yaml-bad-key',
            message: 'a mapping key must be a plain name',
            file: this.file,
            range: keyRange,
          });
          continue;
        }
        const name = String(key);
        const value = this.convert(pair.value as YamlLibNode | null, { start: keyRange.end, end: keyRange.end }, depth + 1);
        // Checked here with a map: the library's own check compares each key with every earlier
        // one, which is quadratic in the size of a mapping (a 100k-host inventory).
        const first = seen.get(name);
        if (first !== undefined) {
          // A duplicate inside an alias's target was reported where the target is written.
          if (this.expanding === 0) this.diagnostics.push(duplicateKey(this.file, name, first, keyRange));
          continue;
        }
        seen.set(name, keyRange);
        pairs.push({ key: name, keyRange, value });
      }
      return { type: 'map', pairs, range };
    }
    if (isSeq(node)) {
      return { type: 'seq', items: node.items.map((item) => this.convert(item as YamlLibNode | null, range, depth + 1)), range };
    }
    return { type: 'scalar', value: null, text: '', range };
  }

  private convertScalar(
    raw: unknown,
    source: string | undefined,
    style: string | undefined,
    offsets: readonly number[] | null | undefined,
    range: SourceRange,
  ): YamlScalar {
    let value: ScalarValue;
    if (raw === null || typeof raw === 'string' || typeof raw === 'boolean') value = raw;
    else if (typeof raw === 'number') value = raw;
    else if (typeof raw === 'bigint') value = Number(raw);
    else value = String(raw);
    const text =
      typeof value === 'string' ? value : value === null ? '' : style === 'PLAIN' && source !== undefined ? source : String(value);
    const scalar: YamlScalar = { type: 'scalar', value, text, range };
    if (typeof value === 'string' && offsets) {
      const start = offsets[0] ?? 0;
      const written = this.text.slice(start, offsets[1] ?? start);
      const quote = style === 'QUOTE_DOUBLE' ? '"' : style === 'QUOTE_SINGLE' ? "'" : style === 'PLAIN' ? '' : undefined;
      if (quote !== undefined && !written.includes('\n') && written === `${quote}${value}${quote}`) {
        scalar.valueStart = { line: range.start.line, column: range.start.column + quote.length };
      }
    }
    return scalar;
  }
}

/** The pair for `key` in a map node, if the node is a map and has it. */
export function getPair(node: YamlNode | undefined, key: string): YamlPair | undefined {
  return node?.type === 'map' ? node.pairs.find((p) => p.key === key) : undefined;
}

/** The value node for `key` in a map node. */
export function getValue(node: YamlNode | undefined, key: string): YamlNode | undefined {
  return getPair(node, key)?.value;
}

/**
 * The range of characters [from, to) of a string scalar's value, or the whole scalar when the
 * value does not map one-to-one onto the source (block scalars, escapes, folded lines).
 */
export function rangeInScalar(node: YamlNode, from: number, to: number): SourceRange {
  if (node.type !== 'scalar' || node.valueStart === undefined) return node.range;
  const { line, column } = node.valueStart;
  return { start: { line, column: column + from }, end: { line, column: column + Math.max(to, from + 1) } };
}

/** Plain JavaScript data for a node (variables' values keep this form). */
export function toPlainValue(node: YamlNode): PlainValue {
  switch (node.type) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlainValue);
    case 'map':
      // fromEntries defines properties, so a key such as __proto__ stays an ordinary key.
      return Object.fromEntries(node.pairs.map((pair) => [pair.key, toPlainValue(pair.value)]));
  }
}

/** JSON-like data: what variables hold. */
export type PlainValue = ScalarValue | PlainValue[] | { [key: string]: PlainValue };

/** Builds a node tree for a plain value, every node placed at `range` (used for substituted values). */
export function fromPlainValue(value: PlainValue, range: SourceRange): YamlNode {
  if (Array.isArray(value)) return { type: 'seq', items: value.map((v) => fromPlainValue(v, range)), range };
  if (value !== null && typeof value === 'object') {
    return {
      type: 'map',
      pairs: Object.entries(value).map(([key, v]) => ({ key, keyRange: range, value: fromPlainValue(v, range) })),
      range,
    };
  }
  return { type: 'scalar', value, text: value === null ? '' : String(value), range };
}

/** A short description of a node's kind for "expected X, found Y" messages. */
export function describeNode(node: YamlNode): string {
  if (node.type === 'map') return 'a mapping';
  if (node.type === 'seq') return 'a list';
  if (node.value === null) return 'nothing';
  if (typeof node.value === 'string') return 'a string';
  if (typeof node.value === 'boolean') return 'a boolean';
  return 'a number';
}
