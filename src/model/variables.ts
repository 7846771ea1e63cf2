import { parse } from 'yaml';
import type { Diagnostic, SourceRange } from '../util/diagnostics.js';
import { VARIABLE_NAME_PATTERN } from './inventory-spec.js';
import type { PlainValue, YamlNode } from '../lang/yaml-tree.js';

/**
 * Variables and built-in facts, and the scope a task is rendered and its `when` evaluated in.
 *
 * Precedence, lowest first: playbook `vars`, inventory `vars`, group `vars` (groups in file
 * order), host `vars`, `--var K=V`. Maps are replaced whole, not merged. Facts live in their own
 * read-only namespaces (`runner`, `host`, `openssh`, `os`), so a variable can never shadow one.
 */

/** The built-in facts a playbook may reference. */
export const FACT_NAMES = ['runner.address', 'host.name', 'host.address', 'openssh.version', 'os.id', 'os.version_id'] as const;
/** A built-in fact, e.g. `openssh.version`. */
export type FactName = (typeof FACT_NAMES)[number];

export const FACT_DESCRIPTIONS: Readonly<Record<FactName, string>> = {
  'runner.address': 'the address the host sees sshfix connect from (from SSH_CONNECTION)',
  'host.name': 'the inventory name of the host',
  'host.address': 'the address sshfix connects to',
  'openssh.version': 'the OpenSSH server version, e.g. 9.2p1',
  'os.id': 'ID from /etc/os-release, e.g. debian',
  'os.version_id': 'VERSION_ID from /etc/os-release, e.g. 12',
};

/** Variable names that would collide with a fact namespace. */
export const RESERVED_VARIABLE_NAMES: readonly string[] = [...new Set(FACT_NAMES.map((f) => f.split('.')[0]!))];

/** Fact values gathered from a host; absent ones are undefined for that host. */
export type FactValues = Partial<Record<FactName, string>>;

/**
 * Everything `{{ }}` and `when:` can see for one host. Plain data: build it with
 * `createHostScope` (plan time) or `createValidationScope` (validate, before connecting).
 */
export interface VariableScope {
  vars: Readonly<Record<string, PlainValue>>;
  facts: FactValues;
  /** Before connecting: facts not in `facts` are known names with values still to come. */
  factsPending: boolean;
  /** Where each variable in `vars` was set, to say where a bad value came from; absent: unknown. */
  origins?: Readonly<Record<string, VariableOrigin>>;
}

/** Where a variable's winning value was set: a `vars:` entry in a file, or `--var`. */
export interface VariableOrigin {
  /** `--var NAME`, or the kind of `vars:` (`play vars`, `inventory vars`). */
  label: string;
  file?: string;
  range?: SourceRange;
}

/** "--var banner", "inventory.yaml:12:5 (inventory vars)". */
export function formatVariableOrigin(origin: VariableOrigin): string {
  if (origin.file === undefined) return origin.label;
  const at = origin.range ? `:${origin.range.start.line}:${origin.range.start.column}` : '';
  return `${origin.file}${at} (${origin.label})`;
}

/** Where each name of a `vars` mapping is set. */
export function varOriginsOf(node: YamlNode | undefined, file: string, label: string): Record<string, VariableOrigin> {
  const origins: Record<string, VariableOrigin> = {};
  if (node?.type !== 'map') return origins;
  for (const pair of node.pairs) {
    Object.defineProperty(origins, pair.key, { value: { label, file, range: pair.keyRange }, enumerable: true, writable: true, configurable: true });
  }
  return origins;
}

/** The value of a reference, or why there is none. */
export type LookupResult =
  | { status: 'found'; value: PlainValue }
  /** A fact that exists but is only known once connected (validation time). */
  | { status: 'pending' }
  | { status: 'undefined'; reason: string };

/** A host as far as scopes are concerned (ResolvedHost satisfies it). */
export interface ScopeHost {
  name: string;
  address: string;
  vars: Readonly<Record<string, PlainValue>>;
  varOrigins?: Readonly<Record<string, VariableOrigin>>;
}

/** The layers of a host's scope, lowest precedence first. */
export interface HostScopeInput {
  host: ScopeHost;
  playVars?: Readonly<Record<string, PlainValue>>;
  playVarOrigins?: Readonly<Record<string, VariableOrigin>>;
  cliVars?: Readonly<Record<string, PlainValue>>;
  /** Facts gathered from the host; host.name and host.address are filled in from `host`. */
  facts?: FactValues;
}

/** What fact gathering knows about a host, in the shape the engine's HostFacts has. */
export interface GatheredFacts {
  runnerAddress?: string;
  opensshVersion?: string;
  os?: { id?: string; versionId?: string };
}

/** The fact values a scope needs, from gathered facts. */
export function factValuesFrom(facts: GatheredFacts): FactValues {
  const values: FactValues = {};
  if (facts.runnerAddress !== undefined) values['runner.address'] = facts.runnerAddress;
  if (facts.opensshVersion !== undefined) values['openssh.version'] = facts.opensshVersion;
  if (facts.os?.id !== undefined) values['os.id'] = facts.os.id;
  if (facts.os?.versionId !== undefined) values['os.version_id'] = facts.os.versionId;
  return values;
}

/** The scope for one host at plan time, after fact gathering. */
export function createHostScope(input: HostScopeInput): VariableScope {
  const cliOrigins = Object.fromEntries(Object.keys(input.cliVars ?? {}).map((name) => [name, { label: `--var ${name}` }]));
  // A scope is only read: when the host and the command line add nothing, the play's variables
  // serve as they are instead of being copied (a playbook may hold 90,000 of them).
  const onlyPlay = isEmpty(input.host.vars) && isEmpty(input.cliVars);
  const onlyPlayOrigins = isEmpty(input.host.varOrigins) && isEmpty(cliOrigins);
  return {
    vars: onlyPlay && input.playVars ? input.playVars : { ...input.playVars, ...input.host.vars, ...input.cliVars },
    facts: { ...input.facts, 'host.name': input.host.name, 'host.address': input.host.address },
    factsPending: false,
    origins: onlyPlayOrigins && input.playVarOrigins ? input.playVarOrigins : { ...input.playVarOrigins, ...input.host.varOrigins, ...cliOrigins },
  };
}

function isEmpty(record: Readonly<Record<string, unknown>> | undefined): boolean {
  for (const _ in record) return false;
  return true;
}

/** The scope for one host before connecting: variables are known, most facts are not. */
export function createValidationScope(input: Omit<HostScopeInput, 'facts'>): VariableScope {
  return { ...createHostScope(input), factsPending: true };
}

/** Looks up a dotted reference such as `max_startups`, `admins.0` or `runner.address`. */
export function lookupVariable(scope: VariableScope, path: readonly string[]): LookupResult {
  const [head, ...rest] = path;
  if (head === undefined) return { status: 'undefined', reason: 'empty reference' };
  if (RESERVED_VARIABLE_NAMES.includes(head)) {
    const fact = path.join('.');
    if (!(FACT_NAMES as readonly string[]).includes(fact)) {
      return { status: 'undefined', reason: `there is no fact "${fact}" (facts: ${FACT_NAMES.join(', ')})` };
    }
    const value = scope.facts[fact as FactName];
    if (value !== undefined) return { status: 'found', value };
    return scope.factsPending ? { status: 'pending' } : { status: 'undefined', reason: `fact ${fact} is not known for this host` };
  }
  if (!Object.hasOwn(scope.vars, head)) return { status: 'undefined', reason: `variable "${head}" is not defined` };
  let value: PlainValue = scope.vars[head]!;
  for (const [i, part] of rest.entries()) {
    const at = [head, ...rest.slice(0, i + 1)].join('.');
    if (Array.isArray(value)) {
      const index = /^[0-9]+$/.test(part) ? Number(part) : NaN;
      if (!(index < value.length)) return { status: 'undefined', reason: `${at}: the list has no item ${part}` };
      value = value[index]!;
    } else if (value !== null && typeof value === 'object') {
      if (!Object.hasOwn(value, part)) return { status: 'undefined', reason: `${at} is not defined` };
      value = value[part]!;
    } else {
      return { status: 'undefined', reason: `${at}: ${[head, ...rest.slice(0, i)].join('.')} is not a mapping or list` };
    }
  }
  return { status: 'found', value };
}

/**
 * Checks a `vars` mapping beyond its shape: names that would shadow a fact namespace, and
 * `{{ }}` inside values (variables are literal; a task references facts directly).
 */
export function checkVarsNode(node: YamlNode, file: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  if (node.type !== 'map') return diagnostics;
  for (const pair of node.pairs) {
    if (RESERVED_VARIABLE_NAMES.includes(pair.key)) {
      diagnostics.push({
        severity: 'error',
        code: 'reserved-variable',
        message: `"${pair.key}" is a fact namespace and cannot be a variable`,
        hint: `facts: ${FACT_NAMES.join(', ')}; rename the variable`,
        file,
        range: pair.keyRange,
      });
    }
    const template = findTemplateString(pair.value);
    if (template) {
      diagnostics.push({
        severity: 'error',
        code: 'template-in-vars',
        message: `variable "${pair.key}" holds a {{ }} substitution; variable values are literal`,
        hint: 'reference facts and other variables directly in the task instead',
        file,
        range: template.range,
      });
    }
  }
  return diagnostics;
}

function findTemplateString(node: YamlNode): YamlNode | undefined {
  if (node.type === 'scalar') return typeof node.value === 'string' && node.value.includes('{{') ? node : undefined;
  const children = node.type === 'seq' ? node.items : node.pairs.map((p) => p.value);
  for (const child of children) {
    const found = findTemplateString(child);
    if (found) return found;
  }
  return undefined;
}

/**
 * Parses `--var K=V` options. `true`/`false` are booleans, whole numbers are numbers, `[a, b]` is a
 * list (YAML flow syntax); anything else is the string as typed (`9.0` stays "9.0"). Values are
 * literal: `{{` is refused as in `vars:`.
 */
export function parseCliVars(options: readonly string[]): { vars: Record<string, PlainValue>; diagnostics: Diagnostic[] } {
  const vars: Record<string, PlainValue> = {};
  const diagnostics: Diagnostic[] = [];
  for (const option of options) {
    const eq = option.indexOf('=');
    const name = eq < 0 ? option : option.slice(0, eq);
    if (eq < 0 || !new RegExp(VARIABLE_NAME_PATTERN).test(name)) {
      diagnostics.push({
        severity: 'error',
        code: 'bad-cli-var',
        message: `--var ${option}: expected NAME=VALUE with a variable name`,
        hint: 'e.g. --var max_startups=100:30:500',
      });
      continue;
    }
    if (RESERVED_VARIABLE_NAMES.includes(name)) {
      diagnostics.push({
        severity: 'error',
        code: 'reserved-variable',
        message: `--var ${name}: "${name}" is a fact namespace and cannot be set`,
      });
      continue;
    }
    const text = option.slice(eq + 1);
    if (text.includes('{{')) {
      diagnostics.push({
        severity: 'error',
        code: 'template-in-vars',
        message: `--var ${name}: variable values are literal; {{ }} is not substituted here`,
      });
      continue;
    }
    Object.defineProperty(vars, name, { value: readCliValue(text), enumerable: true, writable: true, configurable: true });
  }
  return { vars, diagnostics };
}

function readCliValue(text: string): PlainValue {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?[0-9]+$/.test(text) && String(Number(text)) === text) return Number(text);
  if (/^\[.*\]$/s.test(text.trim())) {
    try {
      const value: unknown = parse(text, { version: '1.2', schema: 'core', logLevel: 'error' });
      if (Array.isArray(value) && value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return value as PlainValue[];
    } catch {
      // Not a YAML list after all: keep the text.
    }
  }
  return text;
}
