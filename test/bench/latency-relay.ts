/**
 * `--latency MS`: a TCP relay per lab host, in the bench's own process, that holds every chunk
 * MS milliseconds before passing it on, in each direction, so a round trip costs 2 x MS as it does
 * over a WAN. Every contender connects to the relays (the same relay for all three), so the number
 * of round trips each one needs shows in its wall time. The relays listen on port 22 of their own
 * loopback addresses (127.77.98.1 onwards); the contenders' files name those addresses, and a
 * known_hosts file gives each relay address the host key of the lab host behind it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { BenchLab } from './bench-lab.js';

/** The relays' address block: 127.77.98.1 to 127.77.99.254. */
export const RELAY_FIRST_ADDRESS = '127.77.98.1';
export const RELAY_MAX_HOSTS = 2 * 254;

/** The i-th relay address, skipping .0 and .255. */
export function relayAddress(index: number): string {
  const third = 98 + Math.floor(index / 254);
  return `127.77.${third}.${(index % 254) + 1}`;
}

export interface LatencyRelays {
  /** The lab as the contenders see it: each host at its relay's address, known_hosts to match. */
  lab: BenchLab;
  /** Bytes passed on, both directions, all relays: a check that traffic went through them. */
  bytes(): number;
  close(): Promise<void>;
}

/** Passes what `from` sends on to `to`, `delayMs` later, in order; the end of input too. */
function delayInto(from: Socket, to: Socket, delayMs: number, count: (n: number) => void): void {
  // Timers of equal delay fire in the order they were set, so chunks keep their order.
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
}

function listen(server: Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port: 22, backlog: 1024 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The lab's known_hosts with every lab address replaced by its relay's. */
export function relayKnownHosts(text: string, relayOf: ReadonlyMap<string, string>): string {
  return text
    .split('\n')
    .map((line) => {
      const [names, ...rest] = line.split(' ');
      if (!names || rest.length === 0) return line;
      return [names.split(',').map((n) => relayOf.get(n) ?? n).join(','), ...rest].join(' ');
    })
    .join('\n');
}

/**
 * Starts one relay per lab host, adding `delayMs` each way; `workDir` receives the relays' known_hosts.
 * `firstIndex`: the first relay address to use (tests keep clear of a bench's).
 */
export async function startLatencyRelays(lab: BenchLab, delayMs: number, workDir: string, firstIndex = 0): Promise<LatencyRelays> {
  if (firstIndex + lab.hosts.length > RELAY_MAX_HOSTS) throw new Error(`--latency relays at most ${RELAY_MAX_HOSTS} hosts (their address block), not ${lab.hosts.length}`);
  let passed = 0;
  const count = (n: number): void => void (passed += n);
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const relayOf = new Map(lab.hosts.map((h, i) => [h.address, relayAddress(firstIndex + i)]));
  try {
    for (const host of lab.hosts) {
      const server = createServer({ noDelay: true }, (client) => {
        const upstream = connect({ host: host.address, port: 22, noDelay: true });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          // One side failing ends the other: the contender sees a dropped connection, as on a network.
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        delayInto(client, upstream, delayMs, count);
        delayInto(upstream, client, delayMs, count);
      });
      servers.push(server);
      await listen(server, relayOf.get(host.address) as string);
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  const knownHosts = `${workDir}/known_hosts.relay-${delayMs}`;
  writeFileSync(knownHosts, relayKnownHosts(readFileSync(lab.knownHosts, 'utf8'), relayOf));
  return {
    lab: { ...lab, knownHosts, hosts: lab.hosts.map((h) => ({ ...h, address: relayOf.get(h.address) as string })) },
    bytes: () => passed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
