import { validateHostsClient, validateHostsDaemon } from '../../config/hosts-access/validate.js';
import { errorCount } from '../../util/diagnostics.js';
import type { ObjectSpec } from '../../lang/spec.js';
import { hasTemplate } from '../../lang/template-syntax.js';
import type { YamlNode } from '../../lang/yaml-tree.js';
import type { TaskKind, TaskParamContext } from '../task-kind.js';

/**
 * The `tcp_wrappers` task: make sure clients get through TCP wrappers (hosts.allow and
 * hosts.deny, read by libwrap at every connection) to a daemon, by one narrow line per client in
 * hosts.allow placed before whatever would refuse it first:
 *
 *     - tcp_wrappers:
 *         allow:
 *           - client: 192.0.2.7          # an address, a network (198.51.100.0/24), a host name or ALL
 *             daemon: sshd               # optional, sshd by default
 *
 * Nothing changes where libwrap already lets the client through, and nothing at all where sshd
 * does not link libwrap (the files do nothing for it).
 */

export const DEFAULT_WRAPPED_DAEMON = 'sshd';

export interface WrappersAllow {
  daemon: string;
  client: string;
}

export interface TcpWrappersTaskParams {
  allow: WrappersAllow[];
}

export const tcpWrappersParamsSpec: ObjectSpec = {
  type: 'object',
  title: 'a tcp_wrappers task',
  description: 'Let clients through TCP wrappers (hosts.allow / hosts.deny) with one narrow hosts.allow line each.',
  required: ['allow'],
  properties: {
    allow: {
      type: 'array',
      single: true,
      minItems: 1,
      description: 'The clients that must get through.',
      items: {
        type: 'object',
        title: 'a tcp_wrappers.allow entry',
        description: 'One client and the daemon it must reach.',
        required: ['client'],
        properties: {
          client: { type: 'string', description: 'An address (192.0.2.7, 2001:db8::7), a network (198.51.100.0/24), a host name, or ALL.' },
          daemon: { type: 'string', description: 'The daemon process name libwrap sees (sshd by default).' },
        },
      },
    },
  },
};

function readTcpWrappersParams(node: YamlNode, ctx: TaskParamContext): TcpWrappersTaskParams | undefined {
  if (node.type !== 'map') return undefined;
  const before = errorCount(ctx.diagnostics);
  const params: TcpWrappersTaskParams = { allow: [] };
  const allowNode = node.pairs.find((p) => p.key === 'allow')?.value;
  const items = allowNode === undefined ? [] : allowNode.type === 'seq' ? allowNode.items : [allowNode];
  for (const item of items) {
    if (item.type !== 'map') continue;
    const field = (key: string): YamlNode | undefined => item.pairs.find((p) => p.key === key)?.value;
    const clientNode = field('client');
    const daemonNode = field('daemon');
    const text = (n: YamlNode | undefined): string | undefined => (n?.type === 'scalar' && n.value !== null ? n.text : undefined);
    const client = text(clientNode);
    const daemon = text(daemonNode) ?? DEFAULT_WRAPPED_DAEMON;
    if (client === undefined) continue;
    // An empty client (a playbook's default, left for --var to fill) is the planner's no-op, per host.
    if (client === '') {
      params.allow.push({ daemon, client });
      continue;
    }
    // Only errors here: the warnings (a wide client) belong to the plan, which says them per host.
    const check = (value: string, at: YamlNode | undefined, validate: typeof validateHostsClient | typeof validateHostsDaemon): void => {
      if (!at || (ctx.templatesPending && hasTemplate(value))) return;
      const result = validate(value);
      if (result.ok) return;
      for (const d of result.diagnostics) ctx.diagnostics.push({ ...d, file: ctx.file, range: at.range });
    };
    check(client, clientNode, validateHostsClient);
    check(daemon, daemonNode, validateHostsDaemon);
    params.allow.push({ daemon, client });
  }
  return errorCount(ctx.diagnostics) === before ? params : undefined;
}

export const tcpWrappersTaskKind: TaskKind<TcpWrappersTaskParams> = {
  name: 'tcp_wrappers',
  summary: 'Let clients through TCP wrappers with one narrow hosts.allow line each, placed before what refuses them.',
  readOnly: false,
  params: tcpWrappersParamsSpec,
  readParams: readTcpWrappersParams,
};
