import type { Diagnostic } from '../util/diagnostics.js';
import { controlCharacterHint, describeControlCharacter, findControlCharacter } from './control-characters.js';
import { didYouMean } from './suggest.js';
import { describeNode, type YamlNode } from './yaml-tree.js';

/**
 * One definition of a file format's shape that yields both the structural validator
 * (`checkShape`, diagnostics with positions) and the JSON Schema shipped in schemas/
 * (`toJsonSchema`), so the two cannot drift. Semantics the shape cannot express (jump cycles,
 * sshd keywords, variable references) are checked by the loaders after the shape passes.
 */
export type Spec =
  | StringSpec
  | IntegerSpec
  | BooleanSpec
  | ScalarSpec
  | DurationSpec
  | ArraySpec
  | ObjectSpec
  | AnySpec
  | RefSpec
  | UnionSpec;

interface SpecBase {
  /** Shown by editors on hover and completion; write it for the user. */
  description?: string;
  /**
   * Read by sshfix alone (a `when:` condition, a message it prints), never written to a host nor
   * passed to a command, so it may hold line breaks; every other scalar may not.
   */
  localOnly?: boolean;
}

/** What to say when a value has the right type but the wrong form. */
export interface InvalidValue {
  code: string;
  /** Completes "expected ...", e.g. "a whole number from 1 to 65535". */
  expected: string;
}

/** A string (a number is read as its text unless `enum` is set). */
export interface StringSpec extends SpecBase {
  type: 'string';
  enum?: readonly string[];
  /** A JavaScript and JSON Schema compatible regular expression. */
  pattern?: string;
  invalid?: InvalidValue;
}

/** A whole number within optional bounds. */
export interface IntegerSpec extends SpecBase {
  type: 'integer';
  minimum?: number;
  maximum?: number;
  invalid?: InvalidValue;
}

/** true or false (YAML 1.2: `yes` is a string, so it is refused with a hint). */
export interface BooleanSpec extends SpecBase {
  type: 'boolean';
}

/** A string, number or boolean (sshd values, assertion operands). */
export interface ScalarSpec extends SpecBase {
  type: 'scalar';
}

/** `10s`, `2m`, `1m30s`, `500ms`, `1h`, or a plain number of seconds. */
export interface DurationSpec extends SpecBase {
  type: 'duration';
}

/** A list of items of one shape. */
export interface ArraySpec extends SpecBase {
  type: 'array';
  items: Spec;
  /** Also accept one item written without a list. */
  single?: boolean;
  minItems?: number;
}

/** A mapping with known keys, and optionally free-form keys of one shape. */
export interface ObjectSpec extends SpecBase {
  type: 'object';
  /** Names the object in messages: `unknown key "x" in <title>`. */
  title: string;
  properties: Readonly<Record<string, Spec>>;
  required?: readonly string[];
  /** Free-form keys (host names, variables, sshd keywords) and the shape of their values. */
  additional?: Spec;
  /** Constraint on free-form keys. */
  keys?: { pattern: string; invalid: InvalidValue };
  /** Keys that are never valid here, with a tailored diagnostic (e.g. secrets in the inventory). */
  forbidden?: Readonly<Record<string, { code: string; message: string; hint: string }>>;
  /** Keys that belong elsewhere: key -> hint. Reported as `misplaced-key`. */
  misplaced?: Readonly<Record<string, string>>;
  /** Exactly one of these keys must be present (task kinds). Reported by the caller, not here. */
  exactlyOne?: readonly string[];
  /** Tailors the diagnostic for an unknown key (e.g. an unknown task kind); undefined: the default. */
  describeUnknownKey?: (key: string) => { code: string; message: string; hint?: string } | undefined;
  /** `null` (an empty entry such as `web-01:`) counts as an empty object. */
  nullable?: boolean;
  /** Scalars anywhere below may be `{{ }}` substitutions, checked after rendering (task parameters). */
  templates?: boolean;
}

/** Any value (variables). */
export interface AnySpec extends SpecBase {
  type: 'any';
}

/** A named shape, emitted once under `definitions` in the JSON Schema. */
export interface RefSpec {
  type: 'ref';
  name: string;
  spec: Spec;
}

/**
 * One of several shapes, told apart by the node's kind (a scalar, a mapping or a list): at most
 * one option per kind, so the checker can report precisely against the one that applies.
 */
export interface UnionSpec extends SpecBase {
  type: 'union';
  options: readonly Spec[];
  /** Completes "must be ...". */
  expected: string;
}

/**
 * `record[key]` when `key` is the record's own (user-written keys such as `constructor` must not
 * reach Object.prototype).
 */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The duration grammar, shared by the JSON Schema and `parseDuration`. */
export const DURATION_PATTERN = '^(?:[0-9]+(?:\\.[0-9]+)?|(?=[0-9])(?:[0-9]+h)?(?:[0-9]+m(?!s))?(?:[0-9]+s)?(?:[0-9]+ms)?)$';

/** A `{{ ... }}` substitution somewhere in a string. */
export const TEMPLATE_PATTERN = '\\{\\{';

/** Where `checkShape` reports, and how it reads scalars. */
export interface ShapeContext {
  file: string;
  diagnostics: Diagnostic[];
  /** Task parameters: any scalar position may hold a `{{ }}` string, checked after substitution. */
  templates?: boolean;
}

/** Spec patterns compiled once: a 100k-host inventory checks each host's name against the same one. */
const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let regexp = patterns.get(pattern);
  if (regexp === undefined) patterns.set(pattern, (regexp = new RegExp(pattern)));
  return regexp;
}

const isTemplate = (node: YamlNode, ctx: ShapeContext): boolean =>
  ctx.templates === true && node.type === 'scalar' && typeof node.value === 'string' && node.value.includes('{{');

/**
 * Checks `node` against `spec`, appending a diagnostic for each problem (all of them, not just the
 * first). `label` names the value in messages, e.g. `"port"`. Returns false when the node itself
 * has the wrong type, so callers skip reading it.
 */
export function checkShape(node: YamlNode, spec: Spec, ctx: ShapeContext, label: string): boolean {
  const report = (code: string, message: string, hint?: string, at: YamlNode = node): false => {
    ctx.diagnostics.push({ severity: 'error', code, message, file: ctx.file, range: at.range, ...(hint ? { hint } : {}) });
    return false;
  };
  const wrongType = (expected: string, code = 'wrong-type'): false =>
    report(code, `${label} must be ${expected}, found ${describeNode(node)}`);

  // Every scalar a spec types ends up in a file on the host or a command (variables, typed `any`,
  // are checked where a task substitutes them); this comes before the type checks so a template
  // with a line break in its literal text is caught too.
  if (LEAF_TYPES.has(spec.type) && !('localOnly' in spec && spec.localOnly === true) && node.type === 'scalar' && typeof node.value === 'string') {
    const found = findControlCharacter(node.value);
    if (found) {
      return report(
        'control-character',
        `${label} holds ${describeControlCharacter(found.char)} at offset ${found.offset} of its value`,
        controlCharacterHint(found.char),
      );
    }
  }

  switch (spec.type) {
    case 'ref':
      return checkShape(node, spec.spec, ctx, label);
    case 'union': {
      const option = spec.options.find((o) => nodeKindOf(o) === node.type);
      return option ? checkShape(node, option, ctx, label) : wrongType(spec.expected);
    }
    case 'any':
      return true;
    case 'string': {
      if (isTemplate(node, ctx)) return true;
      const expected = spec.invalid?.expected ?? (spec.enum ? `one of ${spec.enum.join(', ')}` : 'a string');
      // A number where a string is wanted is read as written (`user: 1001`, `address: 10`).
      const numberAsText = node.type === 'scalar' && typeof node.value === 'number' && !spec.enum;
      if (node.type !== 'scalar' || (typeof node.value !== 'string' && !numberAsText)) {
        return wrongType(expected, spec.invalid?.code ?? 'wrong-type');
      }
      const text = node.text;
      if (spec.enum && !spec.enum.includes(text)) {
        return report(
          'bad-value',
          `${label} must be one of ${spec.enum.join(', ')}, found "${text}"`,
          didYouMean(text, spec.enum),
        );
      }
      if (spec.pattern && !compiled(spec.pattern).test(text)) {
        return report(spec.invalid?.code ?? 'bad-value', `${label} must be ${expected}, found "${text}"`);
      }
      return true;
    }
    case 'integer': {
      if (isTemplate(node, ctx)) return true;
      const expected = spec.invalid?.expected ?? 'a whole number';
      if (node.type !== 'scalar' || typeof node.value !== 'number' || !Number.isInteger(node.value)) {
        return wrongType(expected, spec.invalid?.code ?? 'wrong-type');
      }
      if ((spec.minimum !== undefined && node.value < spec.minimum) || (spec.maximum !== undefined && node.value > spec.maximum)) {
        return report(spec.invalid?.code ?? 'out-of-range', `${label} must be ${expected}, found ${node.text}`);
      }
      return true;
    }
    case 'boolean':
      if (isTemplate(node, ctx)) return true;
      if (node.type !== 'scalar' || typeof node.value !== 'boolean') {
        const hint = node.type === 'scalar' && typeof node.value === 'string' && /^(yes|no|on|off)$/i.test(node.value)
          ? 'write true or false (YAML 1.2 reads yes/no as strings)'
          : undefined;
        report('wrong-type', `${label} must be true or false, found ${describeNode(node)}`, hint);
        return false;
      }
      return true;
    case 'scalar':
      if (node.type !== 'scalar' || node.value === null) return wrongType('a string, number or boolean');
      return true;
    case 'duration': {
      if (isTemplate(node, ctx)) return true;
      const expected = 'a duration such as 10s, 2m or 1m30s (a plain number means seconds)';
      if (node.type !== 'scalar' || (typeof node.value !== 'string' && typeof node.value !== 'number')) {
        return wrongType(expected, 'bad-duration');
      }
      const ok = typeof node.value === 'number' ? node.value >= 0 && Number.isFinite(node.value) : compiled(DURATION_PATTERN).test(node.value);
      return ok ? true : report('bad-duration', `${label} must be ${expected}, found "${node.text}"`);
    }
    case 'array': {
      if (node.type !== 'seq') {
        if (spec.single && node.type === 'scalar' && node.value !== null) return checkShape(node, spec.items, ctx, label);
        if (isTemplate(node, ctx)) return true;
        return wrongType(spec.single ? 'a list or a single value' : 'a list');
      }
      if (spec.minItems !== undefined && node.items.length < spec.minItems) {
        report('wrong-type', `${label} must have at least ${spec.minItems} item${spec.minItems === 1 ? '' : 's'}`);
      }
      node.items.forEach((item, i) => checkShape(item, spec.items, ctx, `item ${i + 1} of ${label}`));
      return true;
    }
    case 'object': {
      if (node.type === 'scalar' && node.value === null && spec.nullable) return true;
      if (node.type !== 'map') return wrongType('a mapping');
      if (spec.templates && !ctx.templates) ctx = { ...ctx, templates: true };
      for (const pair of node.pairs) {
        const keyLabel = `"${pair.key}"`;
        const property = ownEntry(spec.properties, pair.key);
        if (property) {
          checkShape(pair.value, property, ctx, keyLabel);
          continue;
        }
        // Only problems need the key as a node: not made for each of 100,000 good keys.
        const at = (): YamlNode => ({ type: 'scalar', value: pair.key, text: pair.key, range: pair.keyRange });
        const forbidden = spec.forbidden && ownEntry(spec.forbidden, pair.key);
        if (forbidden) {
          report(forbidden.code, forbidden.message, forbidden.hint, at());
          continue;
        }
        const misplaced = spec.misplaced && ownEntry(spec.misplaced, pair.key);
        if (misplaced) {
          report('misplaced-key', `"${pair.key}" is not allowed in ${spec.title}`, misplaced, at());
          continue;
        }
        if (spec.additional) {
          if (spec.keys && !compiled(spec.keys.pattern).test(pair.key)) {
            report(spec.keys.invalid.code, `${keyLabel} is not ${spec.keys.invalid.expected}`, undefined, at());
            continue;
          }
          checkShape(pair.value, spec.additional, ctx, keyLabel);
          continue;
        }
        const custom = spec.describeUnknownKey?.(pair.key);
        if (custom) {
          report(custom.code, custom.message, custom.hint, at());
          continue;
        }
        const known = Object.keys(spec.properties);
        const hint =
          didYouMean(pair.key, known) ?? (known.length <= 16 ? `allowed here: ${known.join(', ')}` : undefined);
        report('unknown-key', `unknown key "${pair.key}" in ${spec.title}`, hint, at());
      }
      for (const key of spec.required ?? []) {
        if (!node.pairs.some((p) => p.key === key)) report('missing-key', `${spec.title} needs "${key}"`);
      }
      return true;
    }
  }
}

const LEAF_TYPES: ReadonlySet<Spec['type']> = new Set(['string', 'integer', 'boolean', 'scalar', 'duration']);

function nodeKindOf(spec: Spec): YamlNode['type'] | undefined {
  switch (spec.type) {
    case 'ref':
      return nodeKindOf(spec.spec);
    case 'object':
      return 'map';
    case 'array':
      return 'seq';
    case 'any':
    case 'union':
      return undefined;
    default:
      return 'scalar';
  }
}

/** JSON Schema (draft-07) for `spec`; named shapes go into `definitions`. */
export function toJsonSchema(spec: Spec, definitions: Record<string, unknown>, templates = false): Record<string, unknown> {
  const describe = (schema: Record<string, unknown>, base: SpecBase): Record<string, unknown> =>
    base.description ? { description: base.description, ...schema } : schema;
  const orTemplate = (schema: Record<string, unknown>, base: SpecBase): Record<string, unknown> =>
    templates
      ? describe({ anyOf: [schema, { type: 'string', pattern: TEMPLATE_PATTERN, description: 'a {{ variable }} substitution' }] }, base)
      : describe(schema, base);

  switch (spec.type) {
    case 'union':
      return describe({ anyOf: spec.options.map((o) => toJsonSchema(o, definitions, templates)) }, spec);
    case 'ref': {
      const name = templates ? `${spec.name}-templated` : spec.name;
      if (!(name in definitions)) {
        definitions[name] = {};
        definitions[name] = toJsonSchema(spec.spec, definitions, templates);
      }
      return { $ref: `#/definitions/${name}` };
    }
    case 'any':
      return describe({}, spec);
    case 'string': {
      const schema: Record<string, unknown> = { type: spec.enum ? 'string' : ['string', 'number'] };
      if (spec.enum) schema.enum = [...spec.enum];
      if (spec.pattern) schema.pattern = spec.pattern;
      return spec.enum || spec.pattern ? orTemplate(schema, spec) : describe({ type: ['string', 'number'] }, spec);
    }
    case 'integer': {
      const schema: Record<string, unknown> = { type: 'integer' };
      if (spec.minimum !== undefined) schema.minimum = spec.minimum;
      if (spec.maximum !== undefined) schema.maximum = spec.maximum;
      return orTemplate(schema, spec);
    }
    case 'boolean':
      return orTemplate({ type: 'boolean' }, spec);
    case 'scalar':
      return describe({ type: ['string', 'number', 'boolean'] }, spec);
    case 'duration':
      return orTemplate({ anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: DURATION_PATTERN }] }, spec);
    case 'array': {
      const items = toJsonSchema(spec.items, definitions, templates);
      const array: Record<string, unknown> = { type: 'array', items };
      if (spec.minItems !== undefined) array.minItems = spec.minItems;
      if (spec.single) return describe({ anyOf: [array, items] }, spec);
      return templates ? describe({ anyOf: [array, { type: 'string', pattern: TEMPLATE_PATTERN }] }, spec) : describe(array, spec);
    }
    case 'object': {
      if (spec.templates) templates = true;
      const properties: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(spec.properties)) properties[key] = toJsonSchema(value, definitions, templates);
      const schema: Record<string, unknown> = {
        type: spec.nullable ? ['object', 'null'] : 'object',
        properties,
        additionalProperties: spec.additional ? toJsonSchema(spec.additional, definitions, templates) : false,
      };
      if (spec.keys) schema.propertyNames = { pattern: spec.keys.pattern };
      if (spec.required?.length) schema.required = [...spec.required];
      if (spec.exactlyOne?.length) schema.oneOf = spec.exactlyOne.map((key) => ({ required: [key] }));
      return describe(schema, spec);
    }
  }
}

/** Every key path the spec knows, e.g. `defaults.port`, `hosts.*.vars` (for drift tests and docs). */
export function listKeyPaths(spec: Spec, prefix = '', seen = new Set<Spec>()): string[] {
  if (seen.has(spec)) return [];
  switch (spec.type) {
    case 'ref':
      return listKeyPaths(spec.spec, prefix, seen);
    case 'union':
      return spec.options.flatMap((o) => listKeyPaths(o, prefix, seen));
    case 'array':
      return listKeyPaths(spec.items, `${prefix}[]`, seen);
    case 'object': {
      seen.add(spec);
      const out: string[] = [];
      for (const [key, value] of Object.entries(spec.properties)) {
        const path = prefix ? `${prefix}.${key}` : key;
        out.push(path, ...listKeyPaths(value, path, seen));
      }
      if (spec.additional) out.push(...listKeyPaths(spec.additional, prefix ? `${prefix}.*` : '*', seen));
      seen.delete(spec);
      return out;
    }
    default:
      return [];
  }
}
