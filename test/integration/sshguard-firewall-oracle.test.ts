/**
 * The firewall side of the sshguard task against the real thing: sshguard's own backend scripts
 * (sshg-fw-nft-sets, sshg-fw-ipset, sshg-fw-iptables) block addresses in a private network
 * namespace (`unshare --net`, so the machine's firewall is never touched); sshfix's listing must
 * read back exactly the elements they made, and its release command must lift exactly the element
 * covering an address and leave the others. Needs root, unshare, nft, ipset, iptables and sshguard
 * (.ci/run installs them); fails loudly without them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { blocksCovering, FIREWALL_LISTING, parseFirewallBlocks, releaseCommand, type FirewallBackend } from '../../src/config/sshguard/firewall.js';

const BACKEND_DIR = '/usr/libexec/sshguard';

/** Blocks as sshguard hands them to its backend: address, family, prefix length (IPV4_SUBNET / IPV6_SUBNET). */
const BLOCKS: readonly [string, 4 | 6, number][] = [
  ['203.0.113.7', 4, 32],
  ['198.51.100.9', 4, 24],
  ['192.0.2.200', 4, 30],
  ['2001:db8::7', 6, 128],
  ['2001:db8:1:2::9', 6, 64],
];

/** Runs the backend in a fresh network namespace, blocks BLOCKS, lists, releases `release`, lists again. */
function run(backend: FirewallBackend, release: readonly string[]): { before: string; after: string; released: number[] } {
  const script = [
    'set -u',
    'd=$(mktemp -d) && mkfifo "$d/in"',
    backend === 'iptables' ? 'iptables -N sshguard && ip6tables -N sshguard || exit 90' : ':',
    `${BACKEND_DIR}/sshg-fw-${backend} < "$d/in" >/dev/null 2>&1 &`,
    'exec 7>"$d/in"',
    ...BLOCKS.map(([address, family, prefix]) => `echo "block ${address} ${family} ${prefix}" >&7`),
    // The backend works through its input asynchronously: wait until every block is listed.
    `n=0; while [ "$( { ${FIREWALL_LISTING[backend]}; } | grep -c -E '${BLOCKS.map(([a]) => a.split(':')[0]).join('|')}' )" -lt 1 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done; sleep 0.5`,
    'echo "=== before"',
    `{ ${FIREWALL_LISTING[backend]}; }`,
    ...release.map((element) => `${releaseCommand(backend, element)} >/dev/null 2>&1; echo "=== released $?"`),
    'echo "=== after"',
    `{ ${FIREWALL_LISTING[backend]}; }`,
    'exec 7>&-; wait; rm -rf "$d"',
  ].join('\n');
  const result = spawnSync('unshare', ['--net', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `the ${backend} backend run failed: ${result.stderr}`);
  const before = result.stdout.split('=== before\n')[1]?.split('=== ')[0] ?? '';
  const after = result.stdout.split('=== after\n')[1] ?? '';
  const released = [...result.stdout.matchAll(/^=== released (\d+)$/gm)].map((m) => Number(m[1]));
  return { before, after, released };
}

describe('sshguard firewall backends (real sshguard backend scripts, nft, ipset, iptables)', { timeout: 180_000 }, () => {
  it('has what it needs', () => {
    assert.equal(process.getuid?.(), 0, 'these tests need root (a network namespace and firewall rules in it)');
    for (const tool of ['unshare', 'nft', 'ipset', 'iptables', 'ip6tables']) {
      assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is missing: apt-get install -y nftables ipset iptables util-linux`);
    }
    for (const backend of ['nft-sets', 'ipset', 'iptables']) assert.ok(existsSync(`${BACKEND_DIR}/sshg-fw-${backend}`), `${BACKEND_DIR}/sshg-fw-${backend} is missing: apt-get install -y sshguard`);
  });

  for (const backend of ['nft-sets', 'ipset', 'iptables'] as const) {
    it(`${backend}: reads back exactly the blocks sshguard made and lifts only the one covering an address`, () => {
      const expected = ['203.0.113.7/32', '198.51.100.0/24', '192.0.2.200/30', '2001:db8::7/128', '2001:db8:1:2::/64'];
      const listed = parseFirewallBlocks(backend, run(backend, []).before);
      assert.deepEqual([...listed].sort(), [...expected].sort(), `${backend} listing parsed wrongly`);

      // 198.51.100.77 lies in the /24 block; 2001:db8:1:2::abcd in the /64; 192.0.2.201 in the /30.
      const targets = ['198.51.100.77', '2001:db8:1:2::abcd', '192.0.2.201'];
      const release = targets.flatMap((t) => blocksCovering(listed, t));
      assert.deepEqual(release, ['198.51.100.0/24', '2001:db8:1:2::/64', '192.0.2.200/30']);
      const { before, after, released } = run(backend, release);
      assert.deepEqual(parseFirewallBlocks(backend, before).sort(), [...expected].sort());
      assert.deepEqual(released, [0, 0, 0], `a release command failed on ${backend}`);
      assert.deepEqual(parseFirewallBlocks(backend, after).sort(), ['2001:db8::7/128', '203.0.113.7/32'].sort(), 'exactly the covering elements are gone');
      assert.deepEqual(blocksCovering(parseFirewallBlocks(backend, after), '203.0.113.8'), [], 'a neighbour of a /32 block is not covered');
    });
  }
});
