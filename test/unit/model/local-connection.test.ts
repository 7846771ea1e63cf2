import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toConnectTarget } from '../../../src/model/connect-target.js';
import { applyConnectionOverrides } from '../../../src/model/connection-overrides.js';
import { parseHostPattern } from '../../../src/model/host-pattern.js';
import { withImplicitLocalhost } from '../../../src/model/implicit-localhost.js';
import { findHost, selectInventoryHosts, type Inventory } from '../../../src/model/inventory.js';
import { localHostRefusal } from '../../../src/engine/local-host.js';
import { createTransport } from '../../../src/transport/index.js';
import { errorsOf, inventoryOf, where, yaml } from './helpers.js';

const patterns = (...texts: string[]) => texts.map((t) => parseHostPattern(t).pattern);
const implicitOptions = { localUser: 'ops', knownHosts: '/home/ops/.ssh/known_hosts' };
const names = (inventory: Inventory, pattern: string): string[] => selectInventoryHosts(inventory, pattern).hosts.map((h) => h.name);

describe('connection: local in an sshfix inventory', () => {
  it('resolves a local host with become only: the runner is the user, no key, no jump, no ssh_config', () => {
    const { inventory, diagnostics } = inventoryOf(yaml`
      defaults: { user: root, port: 2222, identity_file: ~/.ssh/id_ed25519, jump: bastion, connect_timeout: 5s }
      hosts:
        bastion: { address: 192.0.2.1, jump: none }
        workstation: { connection: local, become: sudo, become_password_env: MY_SUDO, vars: { server: old-switch } }
    `);
    assert.deepEqual(where(diagnostics), [], 'keys inherited from defaults are simply not used');
    const local = findHost(inventory, 'workstation');
    assert.equal(local?.connection, 'local');
    assert.equal(local?.user, 'ops');
    assert.equal(local?.port, 22);
    assert.equal(local?.become, 'sudo');
    assert.equal(local?.becomePasswordEnv, 'MY_SUDO');
    assert.equal(local?.identityFile, undefined);
    assert.equal(local?.jump, undefined);
    assert.equal(local?.sshConfig, undefined);
    assert.deepEqual(local?.vars, { server: 'old-switch' });
    assert.equal(findHost(inventory, 'bastion')?.connection, undefined);
  });

  it('refuses SSH-only keys written beside connection: local, at each key', () => {
    const { diagnostics } = inventoryOf(yaml`
      hosts:
        me:
          connection: local
          port: 2222
          user: root
          identity_file: ~/.ssh/id_ed25519
          become: sudo
          host_key_policy: off
    `);
    assert.deepEqual(where(diagnostics), ['local-connection-key@4:5', 'local-connection-key@5:5', 'local-connection-key@6:5', 'local-connection-key@8:5']);
    assert.match(diagnostics[0]?.message ?? '', /"port" does not apply to a host with connection: local/);
    assert.match(diagnostics[1]?.hint ?? '', /runs as the user running sshfix; set become: sudo/);
  });

  it('refuses them on a group that makes its hosts local (once for the group), and on a host of it', () => {
    const { inventory, diagnostics } = inventoryOf(yaml`
      defaults: { agent: true }
      hosts:
        laptop-[1:2]: {}
        laptop-3: { jump: bastion }
      groups:
        laptops:
          hosts: ["laptop-*"]
          connection: local
          known_hosts: ~/.ssh/other
    `);
    assert.deepEqual(where(diagnostics), ['local-connection-key@9:5', 'local-connection-key@4:15']);
    assert.deepEqual(inventory.hosts.map((h) => h.connection), ['local', 'local', 'local']);
  });

  it('a host may say connection: ssh over a group that says local', () => {
    const { inventory, diagnostics } = inventoryOf(yaml`
      defaults: { agent: true }
      hosts:
        a: {}
        b: { connection: ssh, port: 2222 }
      groups:
        g: { hosts: [a, b], connection: local }
    `);
    assert.deepEqual(errorsOf(diagnostics), []);
    assert.deepEqual(inventory.hosts.map((h) => [h.name, h.connection ?? 'ssh', h.port]), [['a', 'local', 22], ['b', 'ssh', 2222]]);
  });

  it('a local host needs no credentials, so it is not in the no-credentials warning', () => {
    const { diagnostics } = inventoryOf(yaml`
      hosts:
        me: { connection: local }
        web: {}
    `);
    assert.deepEqual(where(diagnostics), ['warning no-credentials@3:3']);
    assert.match(diagnostics[0]?.message ?? '', /for web$/);
  });

  it('rejects an unknown connection kind', () => {
    const { diagnostics } = inventoryOf('hosts:\n  me: { connection: winrm }\n');
    assert.equal(errorsOf(diagnostics).length, 1);
    assert.deepEqual(errorsOf(diagnostics)[0]?.range?.start, { line: 2, column: 21 });
  });

  it('becomes a local target for the transport; a jump through a local host is no jump', () => {
    const { inventory } = inventoryOf(yaml`
      defaults: { agent: true }
      hosts:
        me: { connection: local, become: sudo }
        web: { jump: me }
    `);
    const target = toConnectTarget(inventory, findHost(inventory, 'me')!);
    assert.equal(target.local, true);
    assert.equal(target.become, 'sudo');
    assert.deepEqual(target.jump, []);
    const web = toConnectTarget(inventory, findHost(inventory, 'web')!);
    assert.equal(web.local, undefined);
    assert.deepEqual(web.jump, []);
  });

  it('-u and --private-key leave a local host alone', () => {
    const { inventory } = inventoryOf('hosts:\n  me: { connection: local }\n  web: { agent: true }\n');
    const overridden = applyConnectionOverrides(inventory, { user: 'admin', identityFile: '/k' });
    assert.equal(findHost(overridden, 'me')?.user, 'ops');
    assert.equal(findHost(overridden, 'me')?.identityFile, undefined);
    assert.equal(findHost(overridden, 'web')?.user, 'admin');
  });
});

describe('the implicit localhost', () => {
  const fleet = inventoryOf(yaml`
    defaults: { agent: true }
    vars: { region: eu }
    hosts:
      web-1: {}
      web-2: {}
    groups:
      web: { hosts: ["web-*"] }
  `).inventory;

  it('exists only when a pattern names it and the inventory does not', () => {
    assert.equal(withImplicitLocalhost(fleet, patterns('all', 'web'), implicitOptions), fleet);
    assert.equal(withImplicitLocalhost(fleet, patterns('!localhost'), implicitOptions), fleet, 'an exclusion does not ask for it');
    const added = withImplicitLocalhost(fleet, patterns('all', 'localhost'), implicitOptions);
    const local = findHost(added, 'localhost');
    assert.equal(local?.connection, 'local');
    assert.equal(local?.implicit, true);
    assert.equal(local?.become, 'none');
    assert.equal(local?.user, 'ops');
    assert.deepEqual(local?.vars, { region: 'eu' }, "the inventory's top-level vars, as Ansible gives it the all group's");
    assert.equal(withImplicitLocalhost(added, patterns('127.0.0.1'), implicitOptions), added, 'one implicit host at most');
  });

  it('is never selected by all, *, globs or an exclusions-only pattern; its names select it', () => {
    const added = withImplicitLocalhost(fleet, patterns('localhost'), implicitOptions);
    assert.deepEqual(names(added, 'all'), ['web-1', 'web-2']);
    assert.deepEqual(names(added, '*'), ['web-1', 'web-2']);
    assert.deepEqual(names(added, 'local*'), []);
    assert.deepEqual(names(added, '!web-1'), ['web-2']);
    assert.deepEqual(names(added, 'localhost'), ['localhost']);
    assert.deepEqual(names(added, '127.0.0.1'), ['localhost'], 'the other name of the same machine');
    assert.deepEqual(names(added, 'web-1,localhost'), ['web-1', 'localhost']);
    assert.deepEqual(names(added, 'localhost,!localhost'), []);
  });

  it('is named by 127.0.0.1 when that is what the play says', () => {
    const added = withImplicitLocalhost(fleet, patterns('127.0.0.1'), implicitOptions);
    assert.deepEqual(added.hosts.filter((h) => h.implicit).map((h) => [h.name, h.address]), [['127.0.0.1', '127.0.0.1']]);
  });

  it('an inventory host or group named localhost is used as written instead', () => {
    const declared = inventoryOf('hosts:\n  localhost: { address: 192.0.2.9, agent: true }\n').inventory;
    const same = withImplicitLocalhost(declared, patterns('localhost'), implicitOptions);
    assert.equal(same, declared);
    assert.equal(findHost(same, 'localhost')?.connection, undefined, 'declared without connection: local, it is an SSH host');
    const group = inventoryOf('defaults: { agent: true }\nhosts:\n  a: {}\ngroups:\n  localhost: { hosts: [a] }\n').inventory;
    assert.equal(withImplicitLocalhost(group, patterns('localhost'), implicitOptions), group);
  });
});

describe('what a local host may have changed', () => {
  it('refuses services that decide who may log in, and not ssh_client', () => {
    const local = { name: 'me', connection: 'local' as const };
    assert.equal(localHostRefusal(local, ['ssh_client']), undefined);
    assert.equal(localHostRefusal({ name: 'web' }, ['sshd', 'fail2ban']), undefined, 'an SSH host proves with a fresh login');
    for (const id of ['sshd', 'fail2ban', 'tcp_wrappers', 'sshguard', 'some_future_service']) {
      const refusal = localHostRefusal(local, ['ssh_client', id]);
      assert.equal(refusal?.code, 'local-login-unproven', id);
      assert.match(refusal?.message ?? '', new RegExp(`me has connection: local, and a change to ${id} cannot be proven there`));
      assert.match(refusal?.diagnosis ?? '', /list it as an SSH host with its address/);
    }
  });
});

describe('the transport opens a local target without SSH', () => {
  it('runs commands on this machine as the user running sshfix, and closes them with closeAll', async () => {
    const transport = createTransport({ prompt: null });
    const { inventory } = inventoryOf('hosts:\n  me: { connection: local }\n');
    const connection = await transport.connect(toConnectTarget(inventory, findHost(inventory, 'me')!));
    const result = await connection.exec('printf "%s" "$$"; printenv SSH_CONNECTION || true');
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout.toString(), /^\d+$/, 'a local process: no SSH_CONNECTION');
    assert.equal(connection.target.local, true);
    assert.equal(transport.jumpConnectionsOpened, 0);
    const slow = connection.exec('exec sleep 30');
    await transport.closeAll();
    const stopped = await slow;
    assert.notEqual(stopped.exitCode, 0, 'closeAll stops what still runs');
  });
});
