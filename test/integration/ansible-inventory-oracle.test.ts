/**
 * sshfix reads Ansible inventories as Ansible does: the real `ansible-inventory --list` (Debian's
 * ansible-core) is the oracle for hosts, group membership and every host's merged variables, on
 * fixtures with ranges, children, :vars, group_vars (files and directories) and host_vars. Its
 * JSON output, read back by sshfix, must give the same hosts too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readSideVars } from '../../src/cli/inventory-files.js';
import { detectInventoryFormat, loadAnsibleInventory, type AnsibleLoadResult } from '../../src/model/ansible-inventory.js';
import type { PlainValue } from '../../src/lang/yaml-tree.js';
import { REPO_ROOT } from '../helpers/lab-fixture.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'ansible');
const home = mkdtempSync(join(tmpdir(), 'sshfix-ansible-home-'));
after(() => rmSync(home, { recursive: true, force: true }));

interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, PlainValue>> };
  [group: string]: unknown;
}

function ansibleList(path: string): AnsibleList {
  const result = spawnSync('ansible-inventory', ['-i', path, '--list'], { encoding: 'utf8', env: { ...process.env, HOME: home, ANSIBLE_NOCOLOR: '1' }, timeout: 120_000 });
  if (result.error || result.status !== 0) {
    throw new Error(`ORACLE MISSING OR FAILED: ansible-inventory (apt-get install ansible-core) could not list ${path}: ${result.error?.message ?? result.stderr}`);
  }
  return JSON.parse(result.stdout) as AnsibleList;
}

function load(path: string, textContent = readFileSync(path, 'utf8')): AnsibleLoadResult {
  const format = detectInventoryFormat(textContent);
  assert.notEqual(format, 'sshfix', `${path} is recognised as an Ansible inventory`);
  const side = readSideVars(dirname(path));
  return loadAnsibleInventory(textContent, { file: path, format: format as Exclude<typeof format, 'sshfix'>, homeDir: home, localUser: 'op', baseDir: dirname(path), side: side.side, agentAvailable: false });
}

/** Ansible types INI values as Python literals and YAML 1.1 (`yes` is true); sshfix keeps strings: compare as text. */
function normalise(value: PlainValue): string {
  if (value === true || (typeof value === 'string' && /^(yes|true|on)$/i.test(value))) return 'true';
  if (value === false || (typeof value === 'string' && /^(no|false|off)$/i.test(value))) return 'false';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Every host of a group in Ansible's listing, through its children. */
function members(list: AnsibleList, group: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(group)) return out;
  seen.add(group);
  const entry = list[group] as { hosts?: string[]; children?: string[] } | undefined;
  for (const h of entry?.hosts ?? []) out.add(h);
  for (const c of entry?.children ?? []) for (const h of members(list, c, seen)) out.add(h);
  return out;
}

describe('Ansible inventories against ansible-inventory --list', { timeout: 300_000 }, () => {
  for (const fixture of ['ini-group-vars/hosts.ini', 'yaml-nested/inventory.yml', 'ranges/hosts']) {
    it(`${fixture}: the same hosts, groups and merged variables`, () => {
      const path = join(FIXTURES, fixture);
      const oracle = ansibleList(path);
      const ours = load(path);
      assert.deepEqual(ours.diagnostics.filter((d) => d.severity === 'error'), []);
      // _meta.hostvars lists only hosts that have variables: the groups list them all.
      const listed = new Set([...members(oracle, 'all'), ...Object.keys(oracle._meta.hostvars)]);
      const names = ours.inventory.hosts.map((h) => h.name).sort();
      assert.deepEqual(names, [...listed].sort());
      for (const group of Object.keys(oracle).filter((g) => g !== '_meta' && g !== 'all')) {
        const theirs = [...members(oracle, group)].sort();
        const mine = (ours.inventory.groups.find((g) => g.name === group)?.hosts ?? []).slice().sort();
        assert.deepEqual(mine, theirs, `members of ${group}`);
      }
      for (const host of ours.inventory.hosts) {
        const theirs = oracle._meta.hostvars[host.name] ?? {};
        // sshfix keeps connection variables as settings, the rest as playbook variables.
        const expectedVars = Object.fromEntries(Object.entries(theirs).filter(([k]) => !k.startsWith('ansible_')).map(([k, v]) => [k, normalise(v)]));
        const actualVars = Object.fromEntries(Object.entries(host.vars).map(([k, v]) => [k, normalise(v)]));
        assert.deepEqual(actualVars, expectedVars, `variables of ${host.name}`);
        assert.equal(host.address, String(theirs.ansible_host ?? host.name), `address of ${host.name}`);
        assert.equal(host.port, Number(theirs.ansible_port ?? 22), `port of ${host.name}`);
        if (theirs.ansible_user !== undefined) assert.equal(host.user, String(theirs.ansible_user), `user of ${host.name}`);
        if (theirs.ansible_become !== undefined) assert.equal(host.become, normalise(theirs.ansible_become) === 'true' ? 'sudo' : 'none');
      }
      // ansible-inventory's own JSON, read back, lists the same hosts with the same addresses.
      const json = JSON.stringify(oracle);
      assert.equal(detectInventoryFormat(json), 'ansible-json');
      const again = loadAnsibleInventory(json, { file: 'list.json', format: 'ansible-json', homeDir: home, localUser: 'op', side: { groupVars: new Map(), hostVars: new Map() }, agentAvailable: false });
      assert.deepEqual(again.inventory.hosts.map((h) => [h.name, h.address, h.port]).sort(), ours.inventory.hosts.map((h) => [h.name, h.address, h.port]).sort());
    });
  }
});
