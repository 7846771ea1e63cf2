import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPlaybook, type Task } from '../../../src/model/playbook.js';
import { evaluateTaskCondition, renderTask } from '../../../src/model/render-task.js';
import { sortDiagnostics, validateProject } from '../../../src/model/validate-project.js';
import { createHostScope, createValidationScope } from '../../../src/model/variables.js';
import { errorsOf, inventoryOf, where, yaml } from './helpers.js';

function tasksOf(text: string): Task[] {
  const { playbook, diagnostics } = loadPlaybook(text, 'p.yaml');
  assert.deepEqual(where(diagnostics), []);
  return playbook.plays.flatMap((p) => p.tasks);
}

const host = { name: 'web-01', address: '192.0.2.10', vars: { account: 'deploy', admins: ['alice', 'bob'], max_startups: '50:30:200' } };
const facts = { 'runner.address': '198.51.100.7', 'openssh.version': '9.2p1', 'os.id': 'debian' } as const;

describe('loading playbooks', () => {
  it('reads one play or a list of plays', () => {
    const one = loadPlaybook('tasks: []', 'p.yaml');
    assert.equal(one.playbook.plays.length, 1);
    assert.deepEqual(where(one.diagnostics), ['warning empty-play@1:8']);
    const two = loadPlaybook(yaml`
      - name: a
        tasks: [{ sshd: { set: { TCPKeepAlive: "yes" } } }]
      - name: b
        hosts: [web, "!web-02"]
        tasks: [{ assert: { sshd: { TCPKeepAlive: "yes" } } }]
    `, 'p.yaml');
    assert.deepEqual(where(two.diagnostics), []);
    assert.deepEqual(two.playbook.plays.map((p) => [p.name, p.hosts.source, p.tasks[0]?.kind]), [['a', 'all', 'sshd'], ['b', 'web,!web-02', 'assert']]);
    assert.deepEqual(two.playbook.plays[1]!.hosts.terms.map((t) => t.range?.start), [{ line: 4, column: 11 }, { line: 4, column: 17 }]);
  });

  it('keeps task name, kind, raw parameters and parsed conditions', () => {
    const [task] = tasksOf(yaml`
      tasks:
        - name: Probe {{ account }}
          when: [os.id == "debian", defined(account)]
          sshd: { set: { ClientAliveInterval: 60 } }
    `);
    assert.equal(task!.name, 'Probe {{ account }}');
    assert.equal(task!.kind, 'sshd');
    assert.equal(task!.when.length, 2);
    assert.deepEqual(task!.kindRange.start, { line: 4, column: 5 });
  });

  it('reports every problem of a file at once', () => {
    const { diagnostics } = loadPlaybook(yaml`
      hosts: "web,,db"
      tasks:
        - sshd: { set: { ClientAlievInterval: 60, MaxStartups: "1:2" } }
        - fail2bn: {}
        - when: a = b
          sshd: { unset: [Foo] }
    `, 'p.yaml');
    assert.deepEqual(where(sortDiagnostics(diagnostics)), [
      'bad-host-pattern@1:12', 'unknown-sshd-keyword@3:20', 'invalid-maxstartups@3:58', 'unknown-task-kind@4:5', 'bad-when@5:13', 'unknown-sshd-keyword@6:21',
    ]);
  });
});

describe('rendering tasks per host', () => {
  it('substitutes variables and facts and types the parameters', () => {
    const [a, b] = tasksOf(yaml`
      tasks:
        - name: Allow {{ account }} from {{ runner.address }}
          sshd:
            match: "Address {{ runner.address }}"
            set: { PasswordAuthentication: "{{ password_auth }}", X11Forwarding: false, clientaliveinterval: 60 }
            unset: [Banner]
        - sshd:
            add: { AllowUsers: "{{ admins }}" }
            remove: { DenyUsers: ["{{ account }}"] }
    `);
    const scope = createHostScope({ host, facts, cliVars: { password_auth: true } });
    const first = renderTask(a!, scope);
    assert.deepEqual(first.diagnostics, []);
    assert.equal(first.rendered?.kind, 'sshd');
    assert.equal(first.rendered?.name, 'Allow deploy from 198.51.100.7');
    assert.deepEqual(first.rendered?.params, {
      config: '/etc/ssh/sshd_config',
      match: { text: 'Address 198.51.100.7', criteria: [{ name: 'Address', value: '198.51.100.7' }] },
      set: [
        { keyword: 'PasswordAuthentication', value: 'yes' },
        { keyword: 'X11Forwarding', value: 'no' },
        { keyword: 'ClientAliveInterval', value: '60' },
      ],
      unset: ['Banner'],
      add: [],
      remove: [],
    });
    const second = renderTask(b!, scope);
    assert.ok(second.rendered?.kind === 'sshd');
    assert.deepEqual({ add: second.rendered.params.add, remove: second.rendered.params.remove }, {
      add: [{ keyword: 'AllowUsers', values: ['alice', 'bob'] }],
      remove: [{ keyword: 'DenyUsers', values: ['deploy'] }],
    });
    assert.equal(second.rendered?.name, 'sshd (task 2)');
  });

  it('checks substituted values and points at where they were written', () => {
    const [task] = tasksOf(yaml`
      tasks:
        - sshd:
            set:
              MaxStartups: "{{ max_startups }}"
    `);
    const bad = renderTask(task!, createHostScope({ host: { ...host, vars: { max_startups: '100:30:50' } }, facts }));
    assert.deepEqual(where(bad.diagnostics), ['invalid-maxstartups@4:22']);
    assert.equal(bad.rendered, undefined);
    const missing = renderTask(task!, createHostScope({ host: { ...host, vars: {} }, facts }));
    assert.deepEqual(where(missing.diagnostics), ['undefined-variable@4:23']);
  });

  it('checks keywords against the host\'s OpenSSH version', () => {
    const [task] = tasksOf('tasks: [{ sshd: { set: { PerSourcePenalties: "no" } } }]');
    assert.deepEqual(renderTask(task!, createValidationScope({ host })).diagnostics, []);
    assert.deepEqual(where(renderTask(task!, createHostScope({ host, facts })).diagnostics), ['sshd-keyword-unsupported@1:26']);
    assert.deepEqual(renderTask(task!, createHostScope({ host, facts: { ...facts, 'openssh.version': '9.8p1' } })).diagnostics, []);
  });

  it('renders a task without templates once per OpenSSH version for every host, and a templated one per host', () => {
    const [plain, templated] = tasksOf(yaml`
      tasks:
        - sshd: { set: { MaxStartups: "100:30:500" } }
        - sshd: { set: { Banner: "/etc/issue.{{ account }}" } }
    `);
    const other = { ...host, name: 'web-02', vars: { ...host.vars, account: 'ops' } };
    const [one, two] = [host, other].map((h) => createHostScope({ host: h, facts }));
    assert.equal(renderTask(plain!, one!), renderTask(plain!, two!), 'one result, shared');
    const newer = renderTask(plain!, createHostScope({ host: other, facts: { ...facts, 'openssh.version': '10.0p1' } }));
    assert.notEqual(newer, renderTask(plain!, one!));
    assert.deepEqual(newer.rendered?.params, renderTask(plain!, one!).rendered?.params);
    const banners = [one, two].map((scope) => {
      const rendered = renderTask(templated!, scope!).rendered;
      assert.ok(rendered?.kind === 'sshd');
      return rendered.params.set[0]?.value;
    });
    assert.deepEqual(banners, ['/etc/issue.deploy', '/etc/issue.ops']);
  });

  it('renders assert tasks with their comparisons', () => {
    const [task] = tasksOf(yaml`
      tasks:
        - assert:
            sshd:
              ClientAliveInterval: 60
              permitrootlogin: { one_of: ["no", prohibit-password] }
              AllowUsers: { contains: "{{ account }}" }
            connection: { user: "{{ account }}", address: "{{ runner.address }}", local_port: 22 }
    `);
    const rendered = renderTask(task!, createHostScope({ host, facts }));
    assert.deepEqual(rendered.diagnostics, []);
    assert.ok(rendered.rendered?.kind === 'assert');
    const params = rendered.rendered.params;
    assert.deepEqual(params.sshd.map((a) => [a.keyword, a.dumpName, a.operator, a.expected]), [
      ['ClientAliveInterval', 'clientaliveinterval', 'equals', ['60']],
      ['PermitRootLogin', 'permitrootlogin', 'one_of', ['no', 'prohibit-password']],
      ['AllowUsers', 'allowusers', 'contains', ['deploy']],
    ]);
    assert.deepEqual(params.connection, { user: 'deploy', address: '198.51.100.7', localPort: 22 });
  });

  it('evaluates when: per host, with the failing condition as the reason', () => {
    const [task] = tasksOf('tasks: [{ when: [os.id == "debian", openssh.version >= "9.4"], sshd: { set: { TCPKeepAlive: "yes" } } }]');
    assert.deepEqual(evaluateTaskCondition(task!, createHostScope({ host, facts: { ...facts, 'openssh.version': '9.6p1' } })), { status: 'run' });
    assert.deepEqual(evaluateTaskCondition(task!, createHostScope({ host, facts })), { status: 'skip', reason: 'condition not met: openssh.version >= "9.4"' });
    assert.deepEqual(evaluateTaskCondition(task!, createValidationScope({ host })), { status: 'pending' });
  });
});

describe('validating playbooks against the inventory', () => {
  const { inventory } = inventoryOf(yaml`
    defaults: { agent: true }
    vars: { max_startups: "100:30:500" }
    hosts:
      web-[01:03]: {}
      db-01: { vars: { max_startups: "10:30:5" } }
    groups:
      web: { hosts: "web-*", vars: { role: web } }
  `);
  const check = (text: string): string[] => {
    const { playbook, diagnostics } = loadPlaybook(text, 'p.yaml');
    assert.deepEqual(errorsOf(diagnostics), []);
    return validateProject({ inventory, playbooks: [playbook] }).map((d) => `${where([d])[0]} ${d.message}`);
  };

  it('checks each host\'s values and says how many hosts a problem concerns', () => {
    assert.deepEqual(check('tasks: [{ sshd: { set: { MaxStartups: "{{ max_startups }}" } } }]'), [
      'invalid-maxstartups@1:39 invalid MaxStartups "10:30:5": start is larger than full (on 1 of 4 hosts, e.g. db-01)',
    ]);
  });
  it('only checks the hosts a play targets', () => {
    assert.deepEqual(check('hosts: web\ntasks: [{ sshd: { set: { MaxStartups: "{{ max_startups }}" } } }]'), []);
    assert.deepEqual(check('hosts: web\ntasks: [{ when: role == "web", sshd: { set: { TCPKeepAlive: "yes" } } }]'), []);
  });
  it('checks a task that a when: on host.name selects for one host of a group that shares its variables', () => {
    // web-01..03 share their variables and are validated once; the task runs only on web-02.
    assert.deepEqual(check('tasks: [{ when: host.name == "web-02", sshd: { set: { ClientAliveInterval: "{{ nowhere }}" } } }]').map((l) => l.split(' ')[0]), ['undefined-variable@1:77']);
  });
  it('reports variables undefined on some hosts', () => {
    assert.deepEqual(check('tasks: [{ when: role == "web", sshd: { set: { TCPKeepAlive: "yes" } } }]'), [
      'undefined-variable@1:17 when: undefined variable in condition: variable "role" is not defined (on 1 of 4 hosts, e.g. db-01)',
    ]);
  });
  it('takes --var into account', () => {
    const { playbook } = loadPlaybook('tasks: [{ sshd: { set: { ClientAliveInterval: "{{ interval }}" } } }]', 'p.yaml');
    assert.equal(validateProject({ inventory, playbooks: [playbook] }).length, 1);
    assert.equal(validateProject({ inventory, playbooks: [playbook], cliVars: { interval: 30 } }).length, 0);
  });
  it('without an inventory still catches references to facts that do not exist', () => {
    const { playbook } = loadPlaybook('tasks: [{ when: os.name == "x", sshd: { set: { ClientAliveInterval: "{{ anything }}" } } }]', 'p.yaml');
    assert.deepEqual(where(validateProject({ playbooks: [playbook] })), ['undefined-variable@1:17']);
  });
});
