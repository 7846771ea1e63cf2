import { PLANNED_TASK_KINDS, TASK_KIND_NAMES, TASK_KINDS } from '../tasks/registry.js';
import { varsSpec } from './inventory-spec.js';
import type { ObjectSpec, Spec } from '../lang/spec.js';
import { closestMatch } from '../lang/suggest.js';

/**
 * The playbook file's shape: the single definition behind the playbook validator and
 * schemas/playbook.schema.json. Task kinds come from the registry.
 */

/** The keys a task may carry besides its kind. */
export const TASK_COMMON_KEYS = ['name', 'when'] as const;

export const taskSpec: ObjectSpec = {
  type: 'object',
  title: 'a task',
  description: `One task: exactly one kind key (${TASK_KIND_NAMES.join(', ')}) plus optional name and when.`,
  properties: {
    name: { type: 'string', description: 'What the task is for, shown in plans and reports. May use {{ variables }}.' },
    when: {
      type: 'array',
      single: true,
      description:
        'Run the task only on hosts where this holds, e.g. os.id == "debian", openssh.version >= "9.0", defined(x), a in [..], joined with and/or/not. A list means all of them. true/false are allowed.',
      items: { type: 'scalar', localOnly: true },
    },
    ...Object.fromEntries(
      TASK_KIND_NAMES.map((name): [string, Spec] => {
        const kind = TASK_KINDS[name];
        return [name, { type: 'ref', name: `task-${name}`, spec: { ...kind.params, description: kind.summary, templates: true } }];
      }),
    ),
  },
  exactlyOne: TASK_KIND_NAMES,
  describeUnknownKey: describeUnknownTaskKey,
};

/** A misspelt `name`/`when` is an unknown key; anything else is taken for a task kind. */
function describeUnknownTaskKey(key: string): { code: string; message: string; hint?: string } {
  const common = closestMatch(key, TASK_COMMON_KEYS);
  if (common !== undefined) return { code: 'unknown-key', message: `unknown key "${key}" in a task`, hint: `did you mean "${common}"?` };
  const kinds = `task kinds: ${TASK_KIND_NAMES.join(', ')}`;
  if (PLANNED_TASK_KINDS.includes(key)) {
    return { code: 'unknown-task-kind', message: `task kind "${key}" is not available in this version of sshfix yet`, hint: kinds };
  }
  const near = closestMatch(key, TASK_KIND_NAMES);
  return { code: 'unknown-task-kind', message: `unknown task kind "${key}"`, hint: near !== undefined ? `did you mean "${near}"? (${kinds})` : kinds };
}

export const playSpec: ObjectSpec = {
  type: 'object',
  title: 'a play',
  description: 'A play: which hosts, which variables, which tasks.',
  required: ['tasks'],
  properties: {
    name: { type: 'string', description: 'What the play does, shown in plans and reports.' },
    hosts: {
      type: 'array',
      single: true,
      description: 'Host pattern: a host, a group, a glob (web-*), a range (web-[01:05]), all; comma-separated; !pattern excludes. Default: all.',
      items: { type: 'string' },
    },
    vars: { type: 'ref', name: 'vars', spec: varsSpec },
    tasks: { type: 'array', description: 'Tasks, run in order on each host.', items: { type: 'ref', name: 'task', spec: taskSpec } },
  },
};

/** A playbook file: one play, or a list of plays (Ansible style). */
export const playbookSpec: Spec = {
  type: 'union',
  description: 'sshfix playbook: one play (a mapping), or a list of plays.',
  expected: 'a play (a mapping with tasks:) or a list of plays',
  options: [
    { type: 'ref', name: 'play', spec: playSpec },
    { type: 'array', minItems: 1, items: { type: 'ref', name: 'play', spec: playSpec } },
  ],
};
