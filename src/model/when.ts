import { closestMatch } from '../lang/suggest.js';
import { FACT_NAMES, lookupVariable, type VariableScope } from './variables.js';
import { compareVersions } from './version.js';
import type { PlainValue } from '../lang/yaml-tree.js';

/**
 * `when:` conditions: a small expression language, parsed at load time and evaluated per host.
 * Never `eval`.
 *
 *     or-expr   := and-expr ("or" and-expr)*
 *     and-expr  := not-expr ("and" not-expr)*
 *     not-expr  := "not" not-expr | test
 *     test      := value [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") value]
 *                | value "is" ["not"] "defined"
 *     value     := "(" or-expr ")" | string | integer | version | true | false | null
 *                | "[" [value ("," value)*] "]" | "defined(" reference ")" | reference
 *     reference := name ("." (name | digits))*          e.g. os.id, openssh.version, admins.0
 *
 * Strings are quoted with " or '. `9.0` or `10.2.1` (digits with dots) is a version literal and
 * behaves as the string "9.0". Ordering (< <= > >=) between numbers is numeric; when either side
 * is a string it is version-aware: `openssh.version >= "9.0"` holds for "9.2p1" and "10.0p2".
 * `==` compares numbers with numeric strings by value (`port == 22` holds for "22"). `in` tests
 * membership in a list, or a substring in a string. The condition must come out true or false; a
 * bare string is not truthy (compare explicitly). An undefined variable is an error, except
 * inside `defined(...)`/`is defined` or after a short-circuit (`defined(x) and x == 1`).
 */

export type WhenExpr =
  | { type: 'literal'; value: PlainValue; from: number; to: number }
  | { type: 'list'; items: WhenExpr[]; from: number; to: number }
  | { type: 'ref'; path: string[]; name: string; from: number; to: number }
  | { type: 'defined'; ref: Extract<WhenExpr, { type: 'ref' }>; negate: boolean; from: number; to: number }
  | { type: 'not'; operand: WhenExpr; from: number; to: number }
  | { type: 'and' | 'or'; left: WhenExpr; right: WhenExpr; from: number; to: number }
  | { type: 'compare'; op: CompareOp; left: WhenExpr; right: WhenExpr; from: number; to: number };

/** The comparison operators of `when:`. */
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';

/** A problem at [from, to) in the condition's text. */
export interface WhenError {
  code: string;
  message: string;
  hint?: string;
  from: number;
  to: number;
}

/** A condition's value for a host, pending facts (validation), or the problems found. */
export type WhenResult = { status: 'ok'; value: boolean } | { status: 'pending' } | { status: 'error'; errors: WhenError[] };

type Token =
  | { kind: 'string'; value: string; from: number; to: number }
  | { kind: 'number'; value: number; from: number; to: number }
  | { kind: 'version'; value: string; from: number; to: number }
  | { kind: 'name'; value: string; from: number; to: number }
  | { kind: 'op'; value: string; from: number; to: number }
  | { kind: 'end'; value: ''; from: number; to: number };

/**
 * How deeply `not`, parentheses and lists may nest in one condition. Parsing and evaluating
 * recurse; thousands of levels would exhaust the stack. Chains of `and`/`or` do not nest.
 */
export const MAX_WHEN_DEPTH = 64;

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'true', 'false', 'null', 'defined']);

class WhenSyntaxError extends Error {
  constructor(readonly detail: WhenError) {
    super(detail.message);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, from: number, to: number, hint?: string): never => {
    throw new WhenSyntaxError({ code: 'bad-when', message, from, to, ...(hint ? { hint } : {}) });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const from = i;
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (i >= text.length) fail('unclosed string', from, text.length);
      i++;
      tokens.push({ kind: 'string', value, from, to: i });
      continue;
    }
    const number = /^[0-9]+(?:\.[0-9]+)*(?![A-Za-z_])/.exec(text.slice(i));
    if (number) {
      i += number[0].length;
      tokens.push(number[0].includes('.')
        ? { kind: 'version', value: number[0], from, to: i }
        : { kind: 'number', value: Number(number[0]), from, to: i });
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name) {
      i += name[0].length;
      tokens.push({ kind: 'name', value: name[0], from, to: i });
      continue;
    }
    const op = /^(==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.)/.exec(text.slice(i));
    if (op) {
      i += op[0].length;
      tokens.push({ kind: 'op', value: op[0], from, to: i });
      continue;
    }
    if (c === '=') fail('"=" is not a comparison', from, from + 1, 'write == to compare');
    if (c === '&' || c === '|') fail(`"${c}" is not an operator here`, from, from + 1, 'write and / or');
    if (c === '!') fail('"!" is not an operator here', from, from + 1, 'write not, or != to compare');
    fail(`unexpected character "${c}"`, from, from + 1);
  }
  tokens.push({ kind: 'end', value: '', from: text.length, to: text.length });
  return tokens;
}

class Parser {
  private index = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[], private readonly text: string) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }
  private isWord(token: Token, word: string): boolean {
    return token.kind === 'name' && token.value === word;
  }
  private isOp(token: Token, op: string): boolean {
    return token.kind === 'op' && token.value === op;
  }
  private fail(token: Token, message: string, hint?: string): never {
    const to = token.to;
    const from = token.kind === 'end' ? Math.max(0, this.text.length - 1) : token.from;
    throw new WhenSyntaxError({ code: 'bad-when', message, from, to: Math.max(to, from + 1), ...(hint ? { hint } : {}) });
  }
  /** Parses what `token` opens one level deeper, refusing to go past MAX_WHEN_DEPTH. */
  private nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > MAX_WHEN_DEPTH) {
      throw new WhenSyntaxError({
        code: 'when-too-deep',
        message: `not, parentheses and lists nest more than ${MAX_WHEN_DEPTH} levels deep here`,
        hint: 'simplify the condition',
        from: token.from,
        to: token.to,
      });
    }
    const result = parse();
    this.depth--;
    return result;
  }

  private describe(token: Token): string {
    return token.kind === 'end' ? 'the end of the condition' : `"${this.text.slice(token.from, token.to)}"`;
  }

  parse(): WhenExpr {
    if (this.peek().kind === 'end') this.fail(this.peek(), 'empty condition');
    const expr = this.or();
    const rest = this.peek();
    if (rest.kind !== 'end') this.fail(rest, `unexpected ${this.describe(rest)}`, 'join conditions with and / or');
    return expr;
  }

  private or(): WhenExpr {
    return this.chain('or', () => this.and());
  }

  private and(): WhenExpr {
    return this.chain('and', () => this.not());
  }

  /** `operand (word operand)*`, associating to the left. */
  private chain(word: 'and' | 'or', operand: () => WhenExpr): WhenExpr {
    let left = operand();
    while (this.isWord(this.peek(), word)) {
      this.next();
      const right = operand();
      left = { type: word, left, right, from: left.from, to: right.to };
    }
    return left;
  }

  private not(): WhenExpr {
    const token = this.peek();
    if (this.isWord(token, 'not') && !this.isWord(this.peek(1), 'in')) {
      this.next();
      const operand = this.nested(token, () => this.not());
      return { type: 'not', operand, from: token.from, to: operand.to };
    }
    return this.test();
  }

  private test(): WhenExpr {
    const left = this.value();
    const token = this.peek();
    if (this.isWord(token, 'is')) {
      this.next();
      let negate = false;
      if (this.isWord(this.peek(), 'not')) {
        this.next();
        negate = true;
      }
      const word = this.next();
      if (!this.isWord(word, 'defined')) this.fail(word, `expected "defined" after "is", found ${this.describe(word)}`);
      if (left.type !== 'ref') this.fail(token, '"is defined" applies to a variable name');
      return { type: 'defined', ref: left, negate, from: left.from, to: word.to };
    }
    let op: CompareOp | undefined;
    if (token.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(token.value)) op = token.value as CompareOp;
    else if (this.isWord(token, 'in')) op = 'in';
    else if (this.isWord(token, 'not') && this.isWord(this.peek(1), 'in')) op = 'not in';
    if (!op) return left;
    this.next();
    if (op === 'not in') this.next();
    const right = this.value();
    return { type: 'compare', op, left, right, from: left.from, to: right.to };
  }

  private value(): WhenExpr {
    const token = this.next();
    switch (token.kind) {
      case 'string':
      case 'version':
      case 'number':
        return { type: 'literal', value: token.value, from: token.from, to: token.to };
      case 'op':
        if (token.value === '(') {
          const inner = this.nested(token, () => this.or());
          const close = this.next();
          if (!this.isOp(close, ')')) this.fail(close, `expected ")", found ${this.describe(close)}`);
          return { ...inner, from: token.from, to: close.to };
        }
        if (token.value === '[') return this.nested(token, () => this.list(token));
        return this.fail(token, `unexpected ${this.describe(token)}`);
      case 'name': {
        if (token.value === 'true' || token.value === 'false') {
          return { type: 'literal', value: token.value === 'true', from: token.from, to: token.to };
        }
        if (token.value === 'null') return { type: 'literal', value: null, from: token.from, to: token.to };
        if (token.value === 'defined' && this.isOp(this.peek(), '(')) {
          this.next();
          const ref = this.reference(this.next());
          const close = this.next();
          if (!this.isOp(close, ')')) this.fail(close, `expected ")", found ${this.describe(close)}`);
          return { type: 'defined', ref, negate: false, from: token.from, to: close.to };
        }
        return this.reference(token);
      }
      case 'end':
        return this.fail(token, 'the condition ends too early');
    }
  }

  private list(open: Token): WhenExpr {
    const items: WhenExpr[] = [];
    if (this.isOp(this.peek(), ']')) {
      const close = this.next();
      return { type: 'list', items, from: open.from, to: close.to };
    }
    for (;;) {
      items.push(this.value());
      const sep = this.next();
      if (this.isOp(sep, ']')) return { type: 'list', items, from: open.from, to: sep.to };
      if (!this.isOp(sep, ',')) this.fail(sep, `expected "," or "]" in a list, found ${this.describe(sep)}`);
    }
  }

  private reference(first: Token): Extract<WhenExpr, { type: 'ref' }> {
    if (first.kind !== 'name' || KEYWORDS.has(first.value)) {
      this.fail(first, `expected a variable name, found ${this.describe(first)}`, first.kind === 'name' ? undefined : 'quote strings: os.id == "debian"');
    }
    const path = [first.value];
    let to = first.to;
    while (this.isOp(this.peek(), '.')) {
      this.next();
      const part = this.next();
      if (part.kind === 'name' || part.kind === 'number') {
        path.push(String(part.value));
        to = part.to;
      } else this.fail(part, `expected a name after ".", found ${this.describe(part)}`);
    }
    return { type: 'ref', path, name: path.join('.'), from: first.from, to };
  }
}

/** Parses a condition; a syntax problem comes back with its position in `text`. */
export function parseWhen(text: string): { expr: WhenExpr } | { error: WhenError } {
  try {
    return { expr: new Parser(tokenize(text), text).parse() };
  } catch (error) {
    if (error instanceof WhenSyntaxError) return { error: error.detail };
    throw error;
  }
}

/** Every variable a condition references, and whether it is only tested with `defined`. */
export function whenReferences(expr: WhenExpr): { name: string; path: string[]; from: number; to: number; guarded: boolean }[] {
  switch (expr.type) {
    case 'ref':
      return [{ name: expr.name, path: expr.path, from: expr.from, to: expr.to, guarded: false }];
    case 'defined':
      return [{ name: expr.ref.name, path: expr.ref.path, from: expr.ref.from, to: expr.ref.to, guarded: true }];
    case 'literal':
      return [];
    case 'list':
      return expr.items.flatMap(whenReferences);
    case 'not':
      return whenReferences(expr.operand);
    case 'and':
    case 'or':
      return chainOperands(expr).flatMap(whenReferences);
    default:
      return [...whenReferences(expr.left), ...whenReferences(expr.right)];
  }
}

/**
 * The operands of a chain of one operator, left to right. The parser builds `a and b and c` as
 * a left-leaning tree as deep as the chain is long; walking it in a loop keeps long chains off
 * the stack.
 */
function chainOperands(expr: Extract<WhenExpr, { type: 'and' | 'or' }>): WhenExpr[] {
  const operands: WhenExpr[] = [];
  let node: WhenExpr = expr;
  while ((node.type === 'and' || node.type === 'or') && node.type === expr.type) {
    operands.push(node.right);
    node = node.left;
  }
  operands.push(node);
  return operands.reverse();
}

const PENDING = Symbol('pending');
type Value = PlainValue | typeof PENDING;

class EvaluationError extends Error {
  constructor(readonly detail: WhenError) {
    super(detail.message);
  }
}

/** Evaluates a parsed condition for one host. */
export function evaluateWhen(expr: WhenExpr, scope: VariableScope): WhenResult {
  try {
    const value = evaluate(expr, scope);
    if (value === PENDING) return { status: 'pending' };
    if (typeof value !== 'boolean') {
      return {
        status: 'error',
        errors: [{
          code: 'when-not-boolean',
          message: `the condition is ${describe(value)}, not true or false`,
          hint: 'compare explicitly, e.g. enable_fix == "yes"',
          from: expr.from,
          to: expr.to,
        }],
      };
    }
    return { status: 'ok', value };
  } catch (error) {
    if (error instanceof EvaluationError) return { status: 'error', errors: [error.detail] };
    throw error;
  }
}

function describe(value: PlainValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function evaluate(expr: WhenExpr, scope: VariableScope): Value {
  const fail = (code: string, message: string, at: WhenExpr = expr, hint?: string): never => {
    throw new EvaluationError({ code, message, from: at.from, to: at.to, ...(hint ? { hint } : {}) });
  };
  const boolean = (operand: WhenExpr): boolean | typeof PENDING => {
    const value = evaluate(operand, scope);
    if (value === PENDING || typeof value === 'boolean') return value;
    return fail('when-not-boolean', `expected true or false, found ${describe(value)}`, operand, 'compare explicitly, e.g. name == "value"');
  };
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'list': {
      const items = expr.items.map((item) => evaluate(item, scope));
      return items.includes(PENDING) ? PENDING : (items as PlainValue[]);
    }
    case 'ref': {
      const found = lookupVariable(scope, expr.path);
      if (found.status === 'pending') return PENDING;
      if (found.status === 'undefined') {
        const suggestion = closestMatch(expr.name, [...Object.keys(scope.vars), ...FACT_NAMES]);
        return fail('undefined-variable', `undefined variable in condition: ${found.reason}`, expr,
          suggestion !== undefined ? `did you mean "${suggestion}"?` : 'guard it with defined(name) and ...');
      }
      return found.value;
    }
    case 'defined': {
      const found = lookupVariable(scope, expr.ref.path);
      if (found.status === 'pending') return PENDING;
      return (found.status === 'found') !== expr.negate;
    }
    case 'not': {
      const value = boolean(expr.operand);
      return value === PENDING ? PENDING : !value;
    }
    case 'and':
    case 'or': {
      const stopAt = expr.type === 'or';
      let pending = false;
      for (const operand of chainOperands(expr)) {
        const value = boolean(operand);
        if (value === stopAt) return stopAt;
        if (value === PENDING) pending = true;
      }
      return pending ? PENDING : !stopAt;
    }
    case 'compare': {
      const left = evaluate(expr.left, scope);
      const right = evaluate(expr.right, scope);
      if (left === PENDING || right === PENDING) return PENDING;
      return compare(expr.op, left, right, (message, hint) => fail('when-type-error', message, expr, hint));
    }
  }
}

function compare(op: CompareOp, left: PlainValue, right: PlainValue, fail: (message: string, hint?: string) => never): boolean {
  switch (op) {
    case '==':
      return equalValues(left, right);
    case '!=':
      return !equalValues(left, right);
    case 'in':
    case 'not in': {
      let found: boolean;
      if (Array.isArray(right)) found = right.some((item) => equalValues(left, item));
      else if (typeof right === 'string' && (typeof left === 'string' || typeof left === 'number')) found = right.includes(String(left));
      else return fail(`"${op}" needs a list or a string on its right, found ${describe(right)}`, 'e.g. os.id in ["debian", "ubuntu"]');
      return op === 'in' ? found : !found;
    }
    default: {
      const ordered = (v: PlainValue): v is string | number => typeof v === 'string' || typeof v === 'number';
      if (!ordered(left) || !ordered(right)) {
        return fail(`"${op}" compares numbers or versions, found ${describe(left)} and ${describe(right)}`);
      }
      const order = typeof left === 'number' && typeof right === 'number'
        ? Math.sign(left - right)
        : compareVersions(String(left), String(right));
      switch (op) {
        case '<':
          return order < 0;
        case '<=':
          return order <= 0;
        case '>':
          return order > 0;
        default:
          return order >= 0;
      }
    }
  }
}

function equalValues(left: PlainValue, right: PlainValue): boolean {
  if (typeof left === 'number' && typeof right === 'string') return right.trim() !== '' && Number(right) === left;
  if (typeof left === 'string' && typeof right === 'number') return equalValues(right, left);
  if (Array.isArray(left) || Array.isArray(right)) {
    return Array.isArray(left) && Array.isArray(right) && left.length === right.length && left.every((v, i) => equalValues(v, right[i]!));
  }
  if (left !== null && right !== null && typeof left === 'object' && typeof right === 'object') {
    const keys = Object.keys(left);
    return keys.length === Object.keys(right).length && keys.every((k) => Object.hasOwn(right, k) && equalValues(left[k]!, right[k]!));
  }
  return left === right;
}
