/** The bench's simulated fleet and latency relays: options, names, addresses, and a relay that really delays. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BenchUsageError, parseBenchOptions, SIMULATED_MAX_HOSTS } from '../../bench/bench-options.js';
import type { BenchLabHost } from '../../bench/bench-lab.js';
import { relayAddress, relayKnownHosts } from '../../bench/latency-relay.js';
import { perFleetHost, spreadFleet, type RunContext } from '../../bench/run-context.js';

const labHosts: BenchLabHost[] = [
  { name: 'lab-01', address: '127.77.50.1', scenario: 'debian-cloud', sshdPid: 11 },
  { name: 'lab-02', address: '127.77.50.2', scenario: 'legacy-kex', sshdPid: 12 },
  { name: 'lab-03', address: '127.77.50.3', scenario: 'rhel-layout', sshdPid: 13 },
];

describe('bench options for large fleets and latency', () => {
  it('takes a size above the lab block as a simulated fleet, and latencies with 0 for direct', () => {
    const options = parseBenchOptions(['--sizes', '10000', '--latency', '0,25']);
    assert.ok(options !== 'help');
    assert.deepEqual(options.sizes, [10000]);
    assert.deepEqual(options.reps, [1]);
    assert.deepEqual(options.latencies, [0, 25]);
    const plain = parseBenchOptions([]);
    assert.ok(plain !== 'help');
    assert.deepEqual(plain.latencies, [0]);
    assert.throws(() => parseBenchOptions(['--sizes', String(SIMULATED_MAX_HOSTS + 1)]), BenchUsageError);
    assert.throws(() => parseBenchOptions(['--latency', '-5']), BenchUsageError);
    assert.throws(() => parseBenchOptions(['--sizes', '600', '--latency', '25']), /relays' address block/);
  });
});

describe('a simulated fleet', () => {
  it('spreads the names over the lab hosts in turn, keeping each host\'s address and scenario', () => {
    const fleet = spreadFleet(labHosts, 7);
    assert.deepEqual(fleet.map((h) => h.name), ['sim-1', 'sim-2', 'sim-3', 'sim-4', 'sim-5', 'sim-6', 'sim-7']);
    assert.deepEqual(fleet.map((h) => h.address), ['127.77.50.1', '127.77.50.2', '127.77.50.3', '127.77.50.1', '127.77.50.2', '127.77.50.3', '127.77.50.1']);
    assert.equal(fleet[4]?.scenario, 'legacy-kex');
  });

  it('shares a lab host\'s counts among the names pointing at it', () => {
    const ctx = { lab: { hosts: labHosts }, fleet: spreadFleet(labHosts, 7) } as unknown as RunContext;
    const logins = new Map([['127.77.50.1', 3], ['127.77.50.2', 2], ['127.77.50.3', 4]]);
    assert.deepEqual(perFleetHost(ctx, (a) => logins.get(a) ?? 0), [1, 1, 2]);
  });
});

describe('latency relays', () => {
  it('number their addresses in the 127.77.98-99 block, skipping .0 and .255', () => {
    assert.equal(relayAddress(0), '127.77.98.1');
    assert.equal(relayAddress(253), '127.77.98.254');
    assert.equal(relayAddress(254), '127.77.99.1');
  });

  it('give each relay address the host key of the lab host behind it', () => {
    const text = '127.77.50.1 ssh-ed25519 AAAA1\n127.77.50.2,lab-02 ssh-ed25519 AAAA2\n# comment\n';
    const relayOf = new Map([['127.77.50.1', '127.77.98.1'], ['127.77.50.2', '127.77.98.2']]);
    assert.equal(relayKnownHosts(text, relayOf), '127.77.98.1 ssh-ed25519 AAAA1\n127.77.98.2,lab-02 ssh-ed25519 AAAA2\n# comment\n');
  });

  it('hold every chunk the given time in each direction', async () => {
    const { startLatencyRelays } = await import('../../bench/latency-relay.js');
    // An echo server stands in for a lab host on port 22, and the relay uses the block's last
    // addresses, which only a bench of more than 500 hosts at a latency would use.
    const echo = createServer((s) => s.pipe(s));
    echo.listen({ host: '127.77.99.250', port: 22 });
    await once(echo, 'listening');
    const port = (echo.address() as AddressInfo).port;
    assert.equal(port, 22);
    const lab = { dir: '', inventory: '', identityFile: '', knownHosts: '/dev/null', hosts: [{ name: 'h', address: '127.77.99.250', scenario: 'x', sshdPid: 1 }] };
    const dir = mkdtempSync(join(tmpdir(), 'sshfix-relay-'));
    const relays = await startLatencyRelays(lab, 40, dir, 505);
    try {
      assert.equal(relays.lab.hosts[0]?.address, '127.77.99.252');
      const client = connect({ host: relays.lab.hosts[0]?.address ?? '', port: 22 });
      await once(client, 'connect');
      const started = Date.now();
      client.write('ping');
      const [reply] = (await once(client, 'data')) as [Buffer];
      const elapsed = Date.now() - started;
      assert.equal(reply.toString(), 'ping');
      assert.ok(elapsed >= 80, `a round trip took ${elapsed} ms, at least 2 x 40 expected`);
      assert.equal(relays.bytes(), 8);
      client.destroy();
    } finally {
      await relays.close();
      echo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
