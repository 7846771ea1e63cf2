/**
 * The shape of a lab: host names, loopback addresses, scenarios, and the inventory it writes.
 * Pure: lab.ts does the I/O.
 */
import { parseIpv4 } from '../config/sshd/values.js';
import { LAB_SCENARIOS, type LabScenario } from './scenarios.js';

export interface LabHostSpec {
  /** Inventory name and hostname, e.g. lab-01. */
  name: string;
  /** The loopback address sshd listens on (port 22). */
  address: string;
  scenario: LabScenario;
  /**
   * The OpenSSH build the host runs (a directory name under the builds' prefix, e.g. "10.0p1");
   * absent: the machine's own sshd.
   */
  openssh?: string;
}

export interface LabLayoutOptions {
  hosts: number;
  /** Address of the first host; the others follow it, skipping .0 and .255. Must be in 127.0.0.0/8. */
  firstAddress: string;
  /** Scenario names to take round-robin; all of them, in their seeding order, when absent. */
  scenarios?: readonly LabScenario[];
  /** The build every host runs unless its scenario entry names one (`--openssh`). */
  openssh?: string;
  /** Per entry of `scenarios`, the build its hosts run (`--scenarios penalties@10.0p1`). */
  scenarioOpenssh?: readonly (string | undefined)[];
}

/** A build name as `scripts/build-openssh.sh` takes it: 10.0p1. */
const BUILD_NAME = /^\d+\.\d+p\d+$/;

export function isOpensshBuildName(text: string): boolean {
  return BUILD_NAME.test(text);
}

/** `name` or `name@10.0p1`, as `--scenarios` lists them. */
export function splitScenarioEntry(entry: string): { name: string; openssh?: string } {
  const at = entry.indexOf('@');
  return at === -1 ? { name: entry } : { name: entry.slice(0, at), openssh: entry.slice(at + 1) };
}

export const DEFAULT_FIRST_ADDRESS = '127.77.0.1';
export const MAX_LAB_HOSTS = 2000;

/** Accounts every lab host has besides root, for sudo and AllowUsers scenarios. */
export const LAB_ACCOUNTS = [
  { name: 'deploy', uid: 2001, sudo: true },
  { name: 'backup', uid: 2002, sudo: false },
] as const;

/** An IPv4 address as one number, for counting addresses up. */
function parseIPv4(text: string): number | undefined {
  return parseIpv4(text)?.reduce((value, n) => value * 256 + n, 0);
}

function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Why the first address cannot be used, or undefined when it can. */
export function checkFirstAddress(address: string, hosts: number): string | undefined {
  const first = parseIPv4(address);
  if (first === undefined) return `"${address}" is not an IPv4 address`;
  const last = first + Math.ceil(hosts * 1.01) + 2;
  if (Math.floor(first / 2 ** 24) !== 127 || Math.floor(last / 2 ** 24) !== 127) {
    return `the lab only uses loopback addresses (127.0.0.0/8), and ${hosts} hosts from ${address} would leave it`;
  }
  if (address === '127.0.0.1') return '127.0.0.1 is the machine\'s own loopback address; choose another, e.g. 127.77.0.1';
  return undefined;
}

export function labHostName(index: number, total: number): string {
  const width = Math.max(2, String(total).length);
  return `lab-${String(index + 1).padStart(width, '0')}`;
}

/** The hosts of a lab, in order. Throws on bad options (the CLI checks them first). */
export function layoutLab(options: LabLayoutOptions): LabHostSpec[] {
  const scenarios = options.scenarios && options.scenarios.length > 0 ? options.scenarios : LAB_SCENARIOS;
  const problem = checkFirstAddress(options.firstAddress, options.hosts);
  if (problem) throw new RangeError(problem);
  let next = parseIPv4(options.firstAddress) as number;
  const specs: LabHostSpec[] = [];
  const explicit = options.scenarios && options.scenarios.length > 0 ? options.scenarioOpenssh : undefined;
  for (let i = 0; i < options.hosts; i++) {
    while (next % 256 === 0 || next % 256 === 255) next++;
    const scenario = scenarios[i % scenarios.length] as LabScenario;
    const openssh = explicit?.[i % scenarios.length] ?? options.openssh ?? scenario.openssh;
    specs.push({
      name: labHostName(i, options.hosts),
      address: formatIPv4(next),
      scenario,
      ...(openssh ? { openssh } : {}),
    });
    next++;
  }
  return specs;
}

export interface LabInventoryInput {
  hosts: readonly LabHostSpec[];
  identityFile: string;
  knownHosts: string;
}

/**
 * The `defaults:` section of an inventory for lab hosts: root with the lab's key, host keys
 * checked against the lab's known_hosts. The lab's own inventory and the benchmark's share it.
 */
export function renderLabInventoryDefaults(input: { identityFile: string; knownHosts: string; connectTimeoutS?: number }): string[] {
  return [
    'defaults:',
    '  user: root',
    '  port: 22',
    `  identity_file: ${JSON.stringify(input.identityFile)}`,
    `  known_hosts: ${JSON.stringify(input.knownHosts)}`,
    '  host_key_policy: strict',
    `  connect_timeout: ${input.connectTimeoutS ?? 10}s`,
  ];
}

/** The sshfix inventory (DESIGN.md format) that points at a lab. */
export function renderLabInventory(input: LabInventoryInput): string {
  const lines = [
    '# Written by `sshfix lab up`: a fleet of real sshd daemons on loopback. Rewritten on every `lab up`.',
    ...renderLabInventoryDefaults(input),
    'hosts:',
  ];
  for (const host of input.hosts) {
    const build = host.openssh ? ` (OpenSSH ${host.openssh})` : '';
    lines.push(`  ${host.name}: { address: ${host.address} }   # ${host.scenario.name}: ${host.scenario.summary}${build}`);
  }
  const groups = new Map<string, string[]>();
  for (const host of input.hosts) {
    const members = groups.get(host.scenario.name) ?? [];
    members.push(host.name);
    groups.set(host.scenario.name, members);
  }
  // Hosts on a build of their own are also grouped by it (`-l openssh-10.0p1`).
  for (const host of input.hosts) {
    if (!host.openssh) continue;
    const name = `openssh-${host.openssh}`;
    groups.set(name, [...(groups.get(name) ?? []), host.name]);
  }
  lines.push('groups:');
  for (const [name, members] of groups) {
    lines.push(`  ${name}:`, `    hosts: [${members.join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

/** known_hosts lines for the lab hosts (port 22, so the bare address is the key). */
export function renderLabKnownHosts(entries: readonly { address: string; publicKey: string }[]): string {
  return entries.map((e) => `${e.address} ${e.publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n`).join('');
}
