import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findControlCharacter } from '../../../src/lang/control-characters.js';
import { loadPlaybook } from '../../../src/model/playbook.js';
import { renderTask } from '../../../src/model/render-task.js';
import { validateProject } from '../../../src/model/validate-project.js';
import { createHostScope, parseCliVars } from '../../../src/model/variables.js';
import type { Diagnostic } from '../../../src/util/diagnostics.js';
import { errorsOf, inventoryOf, where, yaml } from './helpers.js';

/** The control-character diagnostics, as `code@line:column`. */
const controls = (diagnostics: readonly Diagnostic[]): string[] => where(diagnostics.filter((d) => d.code === 'control-character'));

const loadErrors = (text: string): Diagnostic[] => errorsOf(loadPlaybook(text, 'p.yaml').diagnostics);

describe('control characters in literal values', () => {
  it('refuses a newline in an sshd value, at the value, with its offset', () => {
    const errors = loadErrors(yaml`
      tasks:
        - sshd:
            set: { Banner: "x\\nPermitEmptyPasswords yes" }
    `);
    assert.deepEqual(controls(errors), ['control-character@3:22']);
    assert.match(errors[0]!.message, /offset 1\b/);
  });
  it('refuses a line break in a Match criterion (a block scalar too)', () => {
    assert.deepEqual(controls(loadErrors(yaml`
      tasks:
        - sshd:
            match: "User deploy\\nMatch all"
            set: { PasswordAuthentication: "no" }
    `)), ['control-character@3:14']);
    assert.deepEqual(controls(loadErrors('tasks:\n  - sshd:\n      match: |\n        User deploy\n      set: { X11Forwarding: "no" }\n')), ['control-character@3:14']);
  });
  it('refuses a control character in the config path and in list values', () => {
    assert.deepEqual(controls(loadErrors(yaml`
      tasks:
        - sshd:
            config: "/etc/ssh/sshd_config\\r"
            add: { AllowUsers: [deploy, "ops\\u0000"] }
    `)), ['control-character@3:15', 'control-character@4:35']);
  });
  it('refuses one in an assert value', () => {
    assert.deepEqual(controls(loadErrors(yaml`
      tasks:
        - assert:
            sshd:
              PermitRootLogin: "no\\nMatch all"
              AllowUsers: { contains: "a\\u001bb" }
    `)), ['control-character@4:26', 'control-character@5:33']);
  });
  it('refuses a tab: sshd would split the value there', () => {
    assert.deepEqual(controls(loadErrors('tasks: [{ sshd: { set: { Banner: "/etc/issue\\tx" } } }]')), ['control-character@1:34']);
  });
  it('refuses one in the literal text of a template', () => {
    assert.deepEqual(controls(loadErrors('tasks: [{ sshd: { set: { Banner: "{{ b }}\\nx" } } }]')), ['control-character@1:34']);
  });
  it('refuses one in inventory connection settings', () => {
    const { diagnostics } = inventoryOf(yaml`
      hosts:
        web-01: { user: "deploy\\n", identity_file: "/keys/id\\u0001" }
        web-02: { jump: "bastion\\u0085" }
    `);
    assert.deepEqual(controls(diagnostics), ['control-character@2:19', 'control-character@2:46', 'control-character@3:19']);
  });
  it('leaves alone what never leaves sshfix: a folded when: and a multi-line assert message', () => {
    assert.deepEqual(loadErrors(yaml`
      tasks:
        - when: >
            os.id == "debian"
          assert:
            sshd: { PermitRootLogin: "no" }
            message: |
              Root logins must stay off.
              See the runbook.
    `), []);
  });
  it('leaves variables alone where they are defined (they may never be used)', () => {
    assert.deepEqual(controls(loadErrors('vars: { motd: "a\\nb" }\ntasks: [{ sshd: { set: { X11Forwarding: "no" } } }]')), []);
  });
  it('finds every C0 control, DEL and C1 control, and nothing else', () => {
    for (const code of [0, 9, 10, 13, 27, 31, 127, 128, 133, 159]) assert.equal(findControlCharacter(`a${String.fromCharCode(code)}`)?.offset, 1, `U+${code}`);
    for (const text of ['plain', 'é ü 中文', '100:30:500', ' spaced words ']) assert.equal(findControlCharacter(text), undefined, text);
  });
});

describe('control characters brought by variables', () => {
  const inventoryText = yaml`
    defaults: { agent: true }
    vars: { greeting: "hello" }
    hosts:
      web-01:
        vars:
          banner: "/etc/issue\\nPermitRootLogin yes"
      web-02: {}
    groups:
      web: { hosts: "web-*", vars: { admins: [alice, "bob\\r\\nMatch all"] } }
  `;
  const { inventory, diagnostics: inventoryDiagnostics } = inventoryOf(inventoryText);
  const playbookText = yaml`
    vars:
      motd: "x\\u0000"
    tasks:
      - sshd:
          set: { Banner: "{{ banner }}" }
  `;
  const validate = (text: string, cliVars: string[] = []): Diagnostic[] => {
    const { playbook, diagnostics } = loadPlaybook(text, 'p.yaml');
    assert.deepEqual(errorsOf(diagnostics), []);
    const cli = parseCliVars(cliVars);
    assert.deepEqual(cli.diagnostics, []);
    return validateProject({ inventory, playbooks: [playbook], cliVars: cli.vars });
  };

  it('the inventory with such variables loads (they are checked where used)', () => {
    assert.deepEqual(errorsOf(inventoryDiagnostics), []);
  });
  it('through --var: at the reference, naming --var', () => {
    const errors = validate(playbookText, ['banner=x\nPermitEmptyPasswords yes']);
    assert.deepEqual(where(errors), ['control-character@5:23']);
    assert.match(errors[0]!.message, /offset 1 of banner/);
    assert.match(errors[0]!.message, /--var banner/);
  });
  it('through an inventory host var: naming the inventory line', () => {
    const errors = validate(playbookText);
    // web-02 has no banner at all: that is its own problem.
    assert.deepEqual(controls(errors), ['control-character@5:23']);
    const control = errors.find((d) => d.code === 'control-character')!;
    assert.match(control.message, /offset 10 of banner/);
    assert.match(control.message, /inventory\.yaml:6:7/);
  });
  it('through a group var that is a list: naming the item', () => {
    const errors = validate('tasks: [{ sshd: { add: { AllowUsers: "{{ admins }}" } } }]');
    assert.deepEqual(controls(errors), ['control-character@1:39']);
    assert.match(errors[0]!.message, /offset 3 of admins\.1/);
    assert.match(errors[0]!.message, /inventory\.yaml:9:34/);
  });
  it('through a playbook var: naming the vars line', () => {
    const errors = validate('vars:\n  motd: "x\\u0000"\ntasks: [{ sshd: { set: { Banner: "/etc/{{ motd }}" } } }]');
    assert.deepEqual(controls(errors), ['control-character@3:40']);
    assert.match(errors[0]!.message, /p\.yaml:2:3/);
  });
  it('through a fact at plan time: naming the fact', () => {
    const { playbook } = loadPlaybook('tasks: [{ sshd: { match: "Address {{ runner.address }}", set: { PermitRootLogin: "no" } } }]', 'p.yaml');
    const scope = createHostScope({ host: inventory.hosts[1]!, facts: { 'runner.address': '192.0.2.7\nMatch all', 'openssh.version': '9.2p1' } });
    const { rendered, diagnostics } = renderTask(playbook.plays[0]!.tasks[0]!, scope);
    assert.equal(rendered, undefined);
    assert.deepEqual(where(diagnostics), ['control-character@1:35']);
    assert.match(diagnostics[0]!.message, /runner\.address/);
  });
  it('clean values still render', () => {
    assert.deepEqual(validate(playbookText, ['banner=/etc/issue.net']), []);
  });
});
