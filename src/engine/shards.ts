/**
 * `--shard K/N`: the K-th of N disjoint, stable slices of the selected hosts, for CI matrix jobs.
 * A host's shard depends only on its name (a hash), never on its position, so adding or removing
 * a host moves no other host to another shard, and every host is in exactly one shard. Pure.
 */
import { createHash } from 'node:crypto';

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

/** At most this many shards: more than any CI matrix runs (GitHub 256, GitLab 200). */
export const MAX_SHARDS = 1000;

/** Parses `K/N` (1 <= K <= N). */
export function parseShard(text: string): { shard: ShardSpec } | { error: string } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) return { error: `"${text}" is not K/N (e.g. 2/4: the second of four shards)` };
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS) return { error: `the shard count must be 1-${MAX_SHARDS}, found ${count}` };
  if (index < 1 || index > count) return { error: `the shard number must be 1-${count}, found ${index} (shards count from 1, like GitLab's CI_NODE_INDEX)` };
  return { shard: { index, count } };
}

/** The 1-based shard a host name belongs to among `count`. */
export function shardOf(name: string, count: number): number {
  const digest = createHash('sha256').update(name, 'utf8').digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

/** The items whose name falls in `shard`, in their original order. */
export function selectShard<T>(items: readonly T[], shard: ShardSpec, nameOf: (item: T) => string = (item) => (item as { name: string }).name): T[] {
  return items.filter((item) => shardOf(nameOf(item), shard.count) === shard.index);
}
