import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseShard, selectShard, shardOf } from '../../../src/engine/shards.js';

const hosts = Array.from({ length: 500 }, (_, i) => ({ name: `web-${String(i).padStart(3, '0')}.example.com` }));

describe('--shard K/N', () => {
  it('every host is in exactly one shard, and the shards are roughly even', () => {
    const n = 7;
    const shards = Array.from({ length: n }, (_, k) => selectShard(hosts, { index: k + 1, count: n }));
    const all = shards.flat().map((h) => h.name).sort();
    assert.deepEqual(all, hosts.map((h) => h.name).sort());
    for (const shard of shards) assert.ok(shard.length > 500 / n / 2 && shard.length < (500 / n) * 2, `shard of ${shard.length}`);
  });

  it('a host keeps its shard when others come and go (a hash of the name, not of the position)', () => {
    const before = new Map(hosts.map((h) => [h.name, shardOf(h.name, 4)]));
    const fewer = hosts.filter((_, i) => i % 3 !== 0);
    for (const h of [...fewer, { name: 'new-host' }]) if (before.has(h.name)) assert.equal(shardOf(h.name, 4), before.get(h.name));
    assert.deepEqual(selectShard(fewer, { index: 2, count: 4 }).map((h) => h.name), fewer.filter((h) => before.get(h.name) === 2).map((h) => h.name));
  });

  it('parses K/N and refuses what cannot be a shard', () => {
    assert.deepEqual(parseShard('2/4'), { shard: { index: 2, count: 4 } });
    for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '1/1001']) assert.ok('error' in parseShard(bad), bad);
  });
});
