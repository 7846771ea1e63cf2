/**
 * Planner of `assert` tasks: compares effective sshd values (as `sshd -T [-C ...]` would print
 * them, computed by the engine from the host's files with earlier tasks' edits applied) with what
 * the playbook expects. Read-only: it only produces checks.
 */
import { NEUTRAL_CONNECTION } from '../../config/sshd/connection-spec.js';
import { effectiveValue } from '../../config/sshd/effective.js';
import { lookupSshdKeyword } from '../../config/sshd/keywords.js';
import type { MatchConnection } from '../../config/sshd/match.js';
import { buildSshdConfigTree, SSHD_MAIN_CONFIG } from '../../config/sshd/tree.js';
import { parseSshdValue } from '../../config/sshd/values.js';
import { hostSshdDefaults } from '../../services/sshd/host-defaults.js';
import { emptyOutcome, type PlanInput, type PlanOutcome } from '../planner.js';
import type { AssertConnection, SshdAssertion, AssertTaskParams } from './schema.js';

function toMatchConnection(connection: AssertConnection | undefined): MatchConnection | undefined {
  if (!connection) return undefined;
  return {
    user: connection.user ?? NEUTRAL_CONNECTION.user,
    host: connection.host ?? NEUTRAL_CONNECTION.host,
    addr: connection.address ?? NEUTRAL_CONNECTION.addr,
    laddr: connection.localAddress ?? NEUTRAL_CONNECTION.laddr,
    lport: connection.localPort ?? NEUTRAL_CONNECTION.lport,
    ...(connection.rdomain ? { rdomain: connection.rdomain } : {}),
  };
}

/** The words of a value as sshd prints it: list lines and comma lists split into items. */
const itemsOf = (values: readonly string[]): string[] => values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

function evaluate(assertion: SshdAssertion, actual: string[], version: string): { passed: boolean; expectation: string } {
  const keyword = lookupSshdKeyword(assertion.keyword, version);
  const normalise = (text: string): string[] => {
    if (!keyword) return [text];
    const parsed = parseSshdValue(keyword, text, { version });
    return 'problem' in parsed ? [text] : parsed.items;
  };
  const actualText = actual.join(' ');
  const number = Number(itemsOf(actual)[0]);
  switch (assertion.operator) {
    case 'equals': {
      const want = normalise(assertion.expected[0] ?? '');
      return { passed: want.join(' ') === actualText, expectation: `expected ${want.join(' ') || '(unset)'}` };
    }
    case 'not_equals': {
      const want = normalise(assertion.expected[0] ?? '');
      return { passed: want.join(' ') !== actualText, expectation: `expected anything but ${want.join(' ')}` };
    }
    case 'one_of': {
      const options = assertion.expected.map((e) => normalise(e).join(' '));
      return { passed: options.includes(actualText), expectation: `expected one of ${options.join(' | ')}` };
    }
    case 'contains': {
      const have = new Set(itemsOf(actual));
      return { passed: assertion.expected.every((e) => have.has(e)), expectation: `expected to contain ${assertion.expected.join(', ')}` };
    }
    case 'not_contains': {
      const have = new Set(itemsOf(actual));
      return { passed: !assertion.expected.some((e) => have.has(e)), expectation: `expected not to contain ${assertion.expected.join(', ')}` };
    }
    case 'at_least':
    case 'at_most': {
      const bound = Number(normalise(assertion.expected[0] ?? '')[0]);
      const passed = Number.isFinite(number) && (assertion.operator === 'at_least' ? number >= bound : number <= bound);
      return { passed, expectation: `expected ${assertion.operator === 'at_least' ? 'at least' : 'at most'} ${bound}` };
    }
  }
}

export function planAssertTask(input: PlanInput<AssertTaskParams>): PlanOutcome {
  const outcome = emptyOutcome();
  const sshdDefaults = hostSshdDefaults(input.facts.services.sshd, input.facts.opensshVersion);
  const version = input.facts.opensshVersion ?? sshdDefaults.version;
  const built = buildSshdConfigTree(input.files.snapshot(), SSHD_MAIN_CONFIG);
  const connection = toMatchConnection(input.params.connection);
  const scope = connection ? ` for ${input.params.connection?.user ?? 'a connection'}${connection.addr ? ` from ${connection.addr}` : ''}` : '';
  for (const assertion of input.params.sshd) {
    const value = effectiveValue(built.tree, assertion.keyword, connection, { defaults: sshdDefaults, version });
    const where = value.source ? `${value.source.path}:${value.source.line}` : 'default';
    const shown = value.values.length > 0 ? value.values.join(', ') : '(unset)';
    const { passed, expectation } = evaluate(assertion, value.values, version);
    outcome.checks.push({
      passed,
      subject: assertion.keyword,
      message: passed
        ? `${assertion.keyword} is ${shown}${scope} (${where})`
        : `${assertion.keyword} is ${shown}${scope} (${where}), ${expectation}${input.params.message ? `: ${input.params.message}` : ''}`,
    });
  }
  return outcome;
}
