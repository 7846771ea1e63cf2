/**
 * The files that point each contender at the same lab hosts with the same connection settings:
 * an sshfix inventory, an OpenSSH client config (the floor, and Ansible's ssh), and Ansible's
 * inventory, configuration and playbook. Pure: run.ts writes them.
 *
 * The lab's legacy-kex hosts offer only diffie-hellman-group14-sha1, which neither ssh2 nor
 * OpenSSH offers by default. A real fleet's inventory carries a per-host bridge for such hosts;
 * so do these files, so that every contender does the same work on every host.
 */
import { renderLabInventoryDefaults } from '../../src/lab/layout.js';
import type { BenchLab, BenchLabHost } from './bench-lab.js';

export const LEGACY_KEX_SCENARIO = 'legacy-kex';
export const LEGACY_KEX_BRIDGE = 'diffie-hellman-group14-sha1';

/** The shipped remediation playbooks `sshfix plan` runs (DESIGN.md, "Performance targets"). */
export const BENCH_PLAYBOOKS = [
  'playbooks/max-startups.yaml',
  'playbooks/server-keepalive.yaml',
  'playbooks/allow-users.yaml',
  'playbooks/legacy-kex-scoped.yaml',
] as const;

export interface ConnectionSettings {
  /** Seconds each contender may take to connect and log in. */
  connectTimeoutS: number;
}

const needsBridge = (host: BenchLabHost): boolean => host.scenario === LEGACY_KEX_SCENARIO;

export function renderSshfixInventory(lab: BenchLab, settings: ConnectionSettings): string {
  const lines = [
    '# sshfix bench: the lab hosts, with a kex bridge for the legacy-kex ones.',
    ...renderLabInventoryDefaults({ identityFile: lab.identityFile, knownHosts: lab.knownHosts, connectTimeoutS: settings.connectTimeoutS }),
    'hosts:',
    ...lab.hosts.map((h) =>
      needsBridge(h)
        ? `  ${h.name}: { address: ${h.address}, algorithms: { kex: ["+${LEGACY_KEX_BRIDGE}"] } }`
        : `  ${h.name}: { address: ${h.address} }`,
    ),
  ];
  return lines.join('\n') + '\n';
}

/**
 * OpenSSH client config for the lab: the lab key only, strict host-key checking against the lab's
 * known_hosts, no connection sharing. Ansible's own -o options (ControlMaster, ControlPersist)
 * take precedence over this file, as OpenSSH gives the command line precedence.
 */
export function renderSshConfig(lab: BenchLab, settings: ConnectionSettings): string {
  const legacy = lab.hosts.filter(needsBridge).map((h) => h.address);
  const lines = [
    '# sshfix bench: OpenSSH client settings for the lab (first match wins, so the narrow block comes first).',
    ...(legacy.length > 0 ? [`Host ${legacy.join(' ')}`, `  KexAlgorithms +${LEGACY_KEX_BRIDGE}`] : []),
    'Host *',
    '  User root',
    '  Port 22',
    `  IdentityFile ${lab.identityFile}`,
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    '  BatchMode yes',
    '  StrictHostKeyChecking yes',
    `  UserKnownHostsFile ${lab.knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  ControlMaster no',
    '  ControlPath none',
    `  ConnectTimeout ${settings.connectTimeoutS}`,
    '  LogLevel ERROR',
  ];
  return lines.join('\n') + '\n';
}

export function renderAnsibleInventory(lab: BenchLab, sshConfigPath: string): string {
  return [
    '[lab]',
    ...lab.hosts.map((h) => `${h.name} ansible_host=${h.address}`),
    '',
    '[all:vars]',
    'ansible_user=root',
    `ansible_ssh_common_args='-F ${sshConfigPath}'`,
    '',
  ].join('\n');
}

export interface AnsibleSettings extends ConnectionSettings {
  forks: number;
  /** A directory of the bench's own for Ansible's local temp files and ControlPersist sockets. */
  workDir: string;
}

/**
 * Ansible as an experienced user would tune it for this job, so the comparison is fair to it:
 * no fact gathering (lineinfile needs none), a fixed interpreter (no discovery round trip),
 * pipelining, and ControlPersist connection sharing kept for the whole run (Ansible's default
 * of 60 s expires between tasks on a large fleet, and each task then logs in again).
 */
export function renderAnsibleConfig(settings: AnsibleSettings): string {
  return [
    '[defaults]',
    `forks = ${settings.forks}`,
    'host_key_checking = True',
    'gathering = explicit',
    'interpreter_python = /usr/bin/python3',
    `local_tmp = ${settings.workDir}/tmp`,
    `timeout = ${settings.connectTimeoutS}`,
    'retry_files_enabled = False',
    'nocolor = True',
    '',
    '[ssh_connection]',
    'pipelining = True',
    // Ansible's default ssh_args, with a ControlPersist longer than the run.
    'ssh_args = -C -o ControlMaster=auto -o ControlPersist=30m',
    `control_path_dir = ${settings.workDir}/cp`,
    '',
  ].join('\n');
}

/** The sshd settings of playbooks/max-startups.yaml and server-keepalive.yaml, with their defaults. */
export const ANSIBLE_SETTINGS: readonly (readonly [keyword: string, value: string])[] = [
  ['MaxStartups', '100:30:500'],
  ['ClientAliveInterval', '60'],
  ['ClientAliveCountMax', '3'],
  ['TCPKeepAlive', 'yes'],
];

/** lineinfile on /etc/ssh/sshd_config, one task per keyword, validated with sshd -t as the usual idiom does. */
export function renderAnsiblePlaybook(): string {
  const tasks = ANSIBLE_SETTINGS.flatMap(([keyword, value]) => [
    `    - name: ${keyword} ${value}`,
    '      ansible.builtin.lineinfile:',
    '        path: /etc/ssh/sshd_config',
    `        regexp: '^#?\\s*${keyword}\\s'`,
    `        line: '${keyword} ${value}'`,
    '        validate: /usr/sbin/sshd -t -f %s',
  ]);
  return ['- name: sshd connection limits and keepalives (the sshfix bench equivalent)', '  hosts: all', '  gather_facts: false', '  tasks:', ...tasks, ''].join('\n');
}
