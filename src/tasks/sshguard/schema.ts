import { validateWhitelistEntry } from '../../config/sshguard/lists.js';
import { errorCount } from '../../util/diagnostics.js';
import type { ObjectSpec } from '../../lang/spec.js';
import { hasTemplate } from '../../lang/template-syntax.js';
import type { YamlNode } from '../../lang/yaml-tree.js';
import type { TaskKind, TaskParamContext } from '../task-kind.js';

/**
 * The `sshguard` task: whitelist addresses in sshguard's WHITELIST_FILE and lift its blocks.
 *
 *     - sshguard:
 *         whitelist: [192.0.2.7, 198.51.100.0/24]   # entries ensured in the whitelist file
 *         unblock: [192.0.2.7]                      # removed from the backend's block and the blacklist file
 *
 * sshguard has no reload: a change is applied by restarting it, which drops every block it holds.
 */

export interface SshguardTaskParams {
  /** Canonical addresses or CIDR blocks (empty strings: not given, the planner's no-op). */
  whitelist: string[];
  /** Canonical addresses. */
  unblock: string[];
}

const entries = (description: string) => ({ type: 'array' as const, single: true, items: { type: 'string' as const }, description });

export const sshguardParamsSpec: ObjectSpec = {
  type: 'object',
  title: 'an sshguard task',
  description: "Whitelist addresses in sshguard's whitelist file and lift its blocks (restarts sshguard).",
  properties: {
    whitelist: entries('Addresses or CIDR blocks (192.0.2.7, 198.51.100.0/24) ensured in WHITELIST_FILE.'),
    unblock: entries("Addresses removed from the backend's block and from the blacklist file."),
  },
};

function readSshguardParams(node: YamlNode, ctx: TaskParamContext): SshguardTaskParams | undefined {
  if (node.type !== 'map') return undefined;
  const before = errorCount(ctx.diagnostics);
  const params: SshguardTaskParams = { whitelist: [], unblock: [] };
  for (const key of ['whitelist', 'unblock'] as const) {
    const value = node.pairs.find((p) => p.key === key)?.value;
    const items = value === undefined ? [] : value.type === 'seq' ? value.items : [value];
    for (const item of items) {
      if (item.type !== 'scalar' || item.value === null) continue;
      const text = item.text;
      if (text === '' || (ctx.templatesPending && hasTemplate(text))) {
        params[key].push(text);
        continue;
      }
      const checked = validateWhitelistEntry(text);
      if (!checked.ok || (key === 'unblock' && checked.text.includes('/'))) {
        ctx.diagnostics.push({
          severity: 'error',
          code: 'sshguard-bad-address',
          message: checked.ok ? `unblock takes addresses, not a block (${text})` : checked.message,
          file: ctx.file,
          range: item.range,
        });
        continue;
      }
      params[key].push(checked.text);
    }
  }
  if (errorCount(ctx.diagnostics) === before && params.whitelist.length + params.unblock.length === 0 && !node.pairs.some((p) => p.key !== 'whitelist' && p.key !== 'unblock')) {
    ctx.diagnostics.push({ severity: 'error', code: 'empty-sshguard-task', message: 'the sshguard task changes nothing', hint: 'add whitelist: or unblock:', file: ctx.file, range: node.range });
  }
  return errorCount(ctx.diagnostics) === before ? params : undefined;
}

export const sshguardTaskKind: TaskKind<SshguardTaskParams> = {
  name: 'sshguard',
  summary: "Whitelist addresses in sshguard's whitelist file and lift its blocks (restarting it).",
  readOnly: false,
  params: sshguardParamsSpec,
  readParams: readSshguardParams,
};
