/**
 * plan and apply stop on inputs that cannot be what the user meant, before connecting anywhere:
 * a -l pattern that selects nothing, a missing inventory. No lab: nothing here reaches a host.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/lab-fixture.js';

const scratch = mkdtempSync(join(tmpdir(), 'sshfix-cli-run-inputs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};

// Documentation addresses (RFC 5737): if a run got as far as connecting, the test would fail on time, not pass.
const inventory = write(
  'inventory.yaml',
  'hosts:\n  web-01: { address: 192.0.2.1 }\n  web-02: { address: 192.0.2.2 }\n  db-01: { address: 192.0.2.3 }\n' +
    'groups:\n  webservers:\n    hosts: ["web-*"]\n',
);
const playbook = write('keepalive.yaml', 'name: keepalive\nhosts: all\ntasks:\n  - sshd:\n      set: { ClientAliveInterval: 60 }\n');
const env = { NO_COLOR: '1', SSHFIX_INVENTORY: '' };

describe('-l that selects no host', () => {
  for (const command of [['plan'], ['apply', '--yes']]) {
    it(`${command[0]}: exit 1, naming the pattern and the nearest host and group names`, () => {
      const run = runCli([...command, playbook, '-i', inventory, '-l', 'web-1'], { env });
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /error\[limit-no-match\]: -l web-1: matches no host in /);
      assert.match(run.stderr, /hint: nearest host or group names: web-01, web-02, db-01/);
      assert.doesNotMatch(run.stdout, /host\(s\)/);
    });
  }

  it('names the nearest names for each term of a list that matches nothing', () => {
    const run = runCli(['plan', playbook, '-i', inventory, '-l', 'webserver,dbb-01'], { env });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /webserver: nearest host or group names: webservers, /);
    assert.match(run.stderr, /dbb-01: nearest host or group names: db-01, /);
  });

  it('inventory -l: exit 1 too', () => {
    const run = runCli(['inventory', '-i', inventory, '-l', 'nothing-here'], { env });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /error\[limit-no-match\]: -l nothing-here: matches no host/);
  });
});

describe('warnings and errors said once', () => {
  it('a hosts: pattern that matches nothing is one warning, not two', () => {
    const nowhere = write('nowhere.yaml', 'name: nowhere\nhosts: webz\ntasks:\n  - sshd:\n      set: { ClientAliveInterval: 60 }\n');
    const run = runCli(['plan', nowhere, '-i', inventory], { env });
    assert.equal(run.stderr.split('warning[pattern-no-match]').length - 1, 1, run.stderr);
  });

  it('a missing inventory names its path once', () => {
    const missing = join(scratch, 'no-such-inventory.yaml');
    const run = runCli(['plan', playbook, '-i', missing], { env });
    assert.equal(run.status, 1);
    assert.equal(run.stderr.split(missing).length - 1, 1, run.stderr);
    assert.match(run.stderr, /error\[file-not-found\]: inventory \(named by -i\): no such file/);
  });
});
