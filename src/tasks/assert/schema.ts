import { validateSshdValue } from '../../config/sshd/keywords.js';
import { errorCount, type SourceRange } from '../../util/diagnostics.js';
import type { ObjectSpec, Spec } from '../../lang/spec.js';
import { hasTemplate } from '../../lang/template-syntax.js';
import type { YamlNode } from '../../lang/yaml-tree.js';
import type { TaskKind, TaskParamContext } from '../task-kind.js';
import { findSshdKeyword, sshdValueText } from '../sshd/schema.js';

/**
 * The `assert` task: read-only checks that pass or fail without editing, for compliance runs in
 * CI. Each entry compares an effective sshd value (what `sshd -T` prints, so Include files, Match
 * blocks and defaults are already applied) with an expectation:
 *
 *     - name: Idle sessions are kept alive
 *       assert:
 *         sshd:
 *           ClientAliveInterval: 60                    # equals (sshd's normalised form: 1m == 60)
 *           ClientAliveCountMax: { at_most: 3 }
 *           PermitRootLogin: { one_of: [no, prohibit-password] }
 *           KexAlgorithms: { not_contains: diffie-hellman-group1-sha1 }
 *           AllowUsers: { contains: deploy }
 *         connection: { user: deploy, address: "{{ runner.address }}" }   # optional: sshd -T -C
 *         message: Keepalives must be on for the VPN users                 # optional
 *
 * `connection` evaluates the values for one kind of connection (Match blocks applied), as
 * `sshd -T -C user=...,addr=...` does; without it the values are the global ones.
 */

export type AssertOperator = 'equals' | 'not_equals' | 'contains' | 'not_contains' | 'at_least' | 'at_most' | 'one_of';

export const ASSERT_OPERATORS: readonly AssertOperator[] = ['equals', 'not_equals', 'contains', 'not_contains', 'at_least', 'at_most', 'one_of'];

/** One check of an effective sshd value. */
export interface SshdAssertion {
  /** Canonical keyword spelling. */
  keyword: string;
  /** How `sshd -T` names it (lowercase), to find it in the dump. */
  dumpName: string;
  operator: AssertOperator;
  /**
   * The expected value(s) as written (booleans as yes/no). For `equals`, `not_equals` and
   * `one_of` compare with sshd's normalised form (the planner parses both sides with the
   * keyword's value parser); `contains`/`not_contains` test one item of a list value;
   * `at_least`/`at_most` compare numbers (time values in seconds, as `sshd -T` prints them).
   */
  expected: string[];
  /** Where the expectation is written, for the check's report. */
  range: SourceRange;
}

/** `sshd -T -C` connection parameters. */
export interface AssertConnection {
  user?: string;
  host?: string;
  address?: string;
  localAddress?: string;
  localPort?: number;
  rdomain?: string;
}

/** Typed parameters of an `assert` task. */
export interface AssertTaskParams {
  sshd: SshdAssertion[];
  connection?: AssertConnection;
  /** Shown when a check fails. */
  message?: string;
}

const scalarOrList: Spec = { type: 'array', single: true, minItems: 1, items: { type: 'scalar' } };

const operatorSpec: ObjectSpec = {
  type: 'object',
  title: 'an assertion',
  description: 'One comparison (exactly one key).',
  properties: {
    equals: { type: 'scalar', description: 'The effective value equals this (in sshd\'s normalised form).' },
    not_equals: { type: 'scalar', description: 'The effective value differs from this.' },
    contains: { ...scalarOrList, description: 'The list value contains these items.' },
    not_contains: { ...scalarOrList, description: 'The list value contains none of these items.' },
    at_least: { type: 'scalar', description: 'The numeric value (seconds for times) is at least this.' },
    at_most: { type: 'scalar', description: 'The numeric value (seconds for times) is at most this.' },
    one_of: { type: 'array', minItems: 1, items: { type: 'scalar' }, description: 'The effective value is one of these.' },
  },
  exactlyOne: ASSERT_OPERATORS,
};

export const assertParamsSpec: ObjectSpec = {
  type: 'object',
  title: 'an assert task',
  description: 'Read-only compliance checks on effective sshd values.',
  required: ['sshd'],
  properties: {
    sshd: {
      type: 'object',
      title: 'assert.sshd',
      description: 'Keyword: expected value, or Keyword: { operator: value }.',
      properties: {},
      additional: { type: 'union', options: [{ type: 'scalar' }, operatorSpec], expected: 'a value or one of { equals, not_equals, contains, not_contains, at_least, at_most, one_of }' },
      keys: { pattern: '^[A-Za-z][A-Za-z0-9-]*$', invalid: { code: 'unknown-sshd-keyword', expected: 'an sshd keyword' } },
    },
    connection: {
      type: 'object',
      title: 'assert.connection',
      description: 'Check the values that apply to this kind of connection (sshd -T -C).',
      properties: {
        user: { type: 'string' },
        host: { type: 'string' },
        address: { type: 'string' },
        local_address: { type: 'string' },
        local_port: { type: 'integer', minimum: 1, maximum: 65535, invalid: { code: 'bad-port', expected: 'a whole number from 1 to 65535' } },
        rdomain: { type: 'string' },
      },
    },
    message: { type: 'string', localOnly: true, description: 'Shown when a check fails.' },
  },
};

function readAssertParams(node: YamlNode, ctx: TaskParamContext): AssertTaskParams | undefined {
  if (node.type !== 'map') return undefined;
  const before = errorCount(ctx.diagnostics);
  const params: AssertTaskParams = { sshd: [] };
  const pending = (value: YamlNode): boolean =>
    ctx.templatesPending && value.type === 'scalar' && typeof value.value === 'string' && hasTemplate(value.value);

  const sshdNode = node.pairs.find((p) => p.key === 'sshd')?.value;
  if (sshdNode?.type === 'map') {
    if (sshdNode.pairs.length === 0) {
      ctx.diagnostics.push({ severity: 'error', code: 'empty-assert', message: 'assert.sshd checks nothing', file: ctx.file, range: sshdNode.range });
    }
    const seen = new Set<string>();
    for (const pair of sshdNode.pairs) {
      const keyword = findSshdKeyword(pair.key, pair.keyRange, ctx);
      if (!keyword) continue;
      if (seen.has(keyword.name)) {
        ctx.diagnostics.push({ severity: 'error', code: 'duplicate-sshd-keyword', message: `${keyword.name} is asserted twice`, file: ctx.file, range: pair.keyRange });
        continue;
      }
      seen.add(keyword.name);
      let operator: AssertOperator = 'equals';
      let operand: YamlNode = pair.value;
      if (pair.value.type === 'map') {
        const ops = pair.value.pairs.filter((p) => (ASSERT_OPERATORS as readonly string[]).includes(p.key));
        if (ops.length !== 1) {
          ctx.diagnostics.push({
            severity: 'error',
            code: 'bad-assert-operator',
            message: ops.length === 0 ? `${keyword.name}: no comparison given` : `${keyword.name}: one comparison per keyword, found ${ops.map((o) => o.key).join(', ')}`,
            hint: `one of ${ASSERT_OPERATORS.join(', ')}`,
            file: ctx.file,
            range: pair.value.range,
          });
          continue;
        }
        operator = ops[0]!.key as AssertOperator;
        operand = ops[0]!.value;
      }
      const items = operand.type === 'seq' ? operand.items : [operand];
      const expected: string[] = [];
      for (const item of items) {
        const text = sshdValueText(item);
        if (text === undefined) continue;
        expected.push(text);
        if (pending(item)) continue;
        if ((operator === 'at_least' || operator === 'at_most') && !/^-?[0-9]+$/.test(text) && !/^time/.test(keyword.value)) {
          ctx.diagnostics.push({ severity: 'error', code: 'bad-assert-operand', message: `${operator} needs a number, found "${text}"`, file: ctx.file, range: item.range });
        } else if (operator === 'equals' || operator === 'not_equals' || operator === 'one_of') {
          const problem = validateSshdValue(keyword, text, ctx.opensshVersion ? { version: ctx.opensshVersion } : {});
          if (problem && problem.code !== 'unknown-algorithm') {
            ctx.diagnostics.push({
              severity: 'error',
              code: problem.code,
              message: `${problem.message} (so the check could never pass)`,
              file: ctx.file,
              range: item.range,
              ...(problem.hint ? { hint: problem.hint } : {}),
            });
          }
        }
      }
      params.sshd.push({ keyword: keyword.name, dumpName: keyword.dumpName, operator, expected, range: pair.keyRange });
    }
  }

  const connectionNode = node.pairs.find((p) => p.key === 'connection')?.value;
  if (connectionNode?.type === 'map') {
    const connection: AssertConnection = {};
    for (const pair of connectionNode.pairs) {
      if (pair.value.type !== 'scalar' || pair.value.value === null) continue;
      const text = pair.value.text;
      switch (pair.key) {
        case 'user':
        case 'host':
        case 'address':
        case 'rdomain':
          connection[pair.key] = text;
          break;
        case 'local_address':
          connection.localAddress = text;
          break;
        case 'local_port':
          if (typeof pair.value.value === 'number') connection.localPort = pair.value.value;
          break;
      }
    }
    params.connection = connection;
  }
  const messageNode = node.pairs.find((p) => p.key === 'message')?.value;
  if (messageNode?.type === 'scalar' && messageNode.value !== null) params.message = messageNode.text;

  const after = errorCount(ctx.diagnostics);
  return after === before ? params : undefined;
}

export const assertTaskKind: TaskKind<AssertTaskParams> = {
  name: 'assert',
  summary: 'Check effective sshd values without changing anything (compliance runs).',
  readOnly: true,
  params: assertParamsSpec,
  readParams: readAssertParams,
};
