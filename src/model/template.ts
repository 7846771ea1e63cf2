import { findControlCharacterIn, type ControlCharacter } from '../lang/control-characters.js';
import { closestMatch } from '../lang/suggest.js';
import { FACT_NAMES, lookupVariable, RESERVED_VARIABLE_NAMES, type VariableScope } from './variables.js';
import { rangeInScalar, type PlainValue, type YamlNode } from '../lang/yaml-tree.js';
import type { Diagnostic } from '../util/diagnostics.js';

/**
 * `{{ name }}` substitution, and nothing more: a reference is a variable name or a dotted path
 * (`admins.0`, `runner.address`). No filters, no expressions, no escapes; a string that is
 * exactly one reference takes the variable's value with its type (a list stays a list), any other
 * string gets the references' text spliced in.
 */

export type TemplatePart =
  | { kind: 'text'; text: string }
  /** `from`/`to` span the whole `{{ ... }}` in the string. */
  | { kind: 'ref'; path: string[]; name: string; from: number; to: number };

/** A problem at [from, to) in the template text. */
export interface TemplateError {
  code: string;
  message: string;
  hint?: string;
  from: number;
  to: number;
}

/**
 * A problem at [from, to) of a scalar's text (a template's, a when: expression's) as an error
 * diagnostic pointing inside that scalar in `file`; `prefix` says where it was (e.g. `when: `).
 */
export function scalarTextError(error: TemplateError, file: string, scalar: YamlNode, prefix = ''): Diagnostic {
  return {
    severity: 'error',
    code: error.code,
    message: `${prefix}${error.message}`,
    file,
    range: rangeInScalar(scalar, error.from, error.to),
    ...(error.hint ? { hint: error.hint } : {}),
  };
}

const REFERENCE = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+))*)\s*$/;

export function parseTemplate(text: string): { parts: TemplatePart[]; errors: TemplateError[] } {
  const parts: TemplatePart[] = [];
  const errors: TemplateError[] = [];
  let index = 0;
  while (index < text.length) {
    const open = text.indexOf('{{', index);
    if (open < 0) {
      parts.push({ kind: 'text', text: text.slice(index) });
      break;
    }
    if (open > index) parts.push({ kind: 'text', text: text.slice(index, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) {
      errors.push({ code: 'bad-template', message: 'unclosed "{{"', hint: 'write {{ name }}', from: open, to: text.length });
      break;
    }
    const inner = text.slice(open + 2, close);
    const match = REFERENCE.exec(inner);
    if (!match) {
      errors.push({
        code: 'bad-template',
        message: `"{{${inner}}}" is not a variable reference`,
        hint: 'only {{ name }} and {{ fact.name }} are supported: no filters, defaults or expressions (set defaults in the playbook\'s vars)',
        from: open,
        to: close + 2,
      });
    } else {
      const name = match[1]!;
      parts.push({ kind: 'ref', path: name.split('.'), name, from: open, to: close + 2 });
    }
    index = close + 2;
  }
  return { parts, errors };
}


/** The substituted value, pending facts, or the problems found. */
export type RenderResult =
  | { status: 'ok'; value: PlainValue }
  /** A referenced fact is only known after connecting (validation time). */
  | { status: 'pending' }
  | { status: 'error'; errors: TemplateError[] };

/** Substitutes every reference in `text` from `scope`. */
export function renderTemplate(text: string, scope: VariableScope): RenderResult {
  const { parts, errors } = parseTemplate(text);
  if (errors.length) return { status: 'error', errors };
  const refs = parts.filter((p): p is Extract<TemplatePart, { kind: 'ref' }> => p.kind === 'ref');
  if (refs.length === 0) return { status: 'ok', value: text };
  const values: PlainValue[] = [];
  let pending = false;
  for (const ref of refs) {
    const found = lookupVariable(scope, ref.path);
    if (found.status === 'undefined') {
      errors.push(undefinedReference(ref, found.reason, scope));
    } else if (found.status === 'pending') pending = true;
    else values.push(found.value);
  }
  if (errors.length) return { status: 'error', errors };
  if (pending) return { status: 'pending' };
  if (parts.length === 1) return { status: 'ok', value: values[0]! };
  let out = '';
  let next = 0;
  for (const part of parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const value = values[next++]!;
    if (value === null || typeof value === 'object') {
      errors.push({
        code: 'template-non-scalar',
        message: `{{ ${part.name} }} is ${value === null ? 'null' : Array.isArray(value) ? 'a list' : 'a mapping'} and cannot be spliced into text`,
        hint: 'a list or mapping can only be the whole value: "{{ name }}" alone',
        from: part.from,
        to: part.to,
      });
      continue;
    }
    out += String(value);
  }
  return errors.length ? { status: 'error', errors } : { status: 'ok', value: out };
}

function undefinedReference(ref: Extract<TemplatePart, { kind: 'ref' }>, reason: string, scope: VariableScope): TemplateError {
  const head = ref.path[0]!;
  const sameNamespace = FACT_NAMES.filter((f) => f.startsWith(`${head}.`));
  // runner.ip is far from runner.address in edits, but there is only one runner fact to mean.
  const suggestion = sameNamespace.length === 1 ? sameNamespace[0] : closestMatch(ref.name, [...Object.keys(scope.vars), ...FACT_NAMES]);
  return {
    code: 'undefined-variable',
    message: `undefined variable in {{ ${ref.name} }}: ${reason}`,
    hint: suggestion !== undefined ? `did you mean "${suggestion}"?` : 'define it in the playbook\'s vars, the inventory, or with --var',
    from: ref.from,
    to: ref.to,
  };
}

/** A reference whose value brings a control character into the rendered text. */
export interface ReferencedControlCharacter extends ControlCharacter {
  /** The reference as written, e.g. `banner` or `runner.address`. */
  name: string;
  /** The string holding the character: the reference itself or an item inside it (`admins.1`). */
  holder: string;
  /** True when the reference names a fact rather than a variable. */
  fact: boolean;
  /** Span of the `{{ ... }}` in the template text. */
  from: number;
  to: number;
}

/**
 * The first reference in `text` whose value (or any string inside it) holds a control
 * character. Literal text around references is the caller's to check; unknown or pending
 * references are skipped (renderTemplate reports them).
 */
export function findReferencedControlCharacter(text: string, scope: VariableScope): ReferencedControlCharacter | undefined {
  for (const part of parseTemplate(text).parts) {
    if (part.kind !== 'ref') continue;
    const found = lookupVariable(scope, part.path);
    if (found.status !== 'found') continue;
    const control = findControlCharacterIn(found.value);
    if (!control) continue;
    return {
      offset: control.offset,
      char: control.char,
      name: part.name,
      holder: [part.name, ...control.path].join('.'),
      fact: RESERVED_VARIABLE_NAMES.includes(part.path[0]!),
      from: part.from,
      to: part.to,
    };
  }
  return undefined;
}
