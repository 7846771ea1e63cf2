/**
 * The way into a lab host with a network namespace of its own. Its sshd listens inside that
 * namespace, where its firewall (nft, ipset, iptables) is private to it; the machine's namespace
 * cannot reach it over TCP. Two relays join them through a Unix socket in the host's private /run
 * (a file, so both namespaces see it):
 *
 * - the outer relay listens on the host's address in the machine's namespace, and for each client
 *   sends one line naming the client's address, then the bytes both ways;
 * - the inner relay, inside the host's namespace, connects to sshd *from that same address*, so
 *   sshd logs the client's real address and the host's firewall drops a blocked one, as on a real
 *   host.
 *
 * Only loopback addresses (127.0.0.0/8) are ever bound or connected to.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** The Unix socket joining the two relays, inside the host's private /run. */
export const LAB_RELAY_SOCKET = '/run/sshfix-lab-relay.sock';

/** How long the inner relay waits for sshd to accept: a firewall that drops SYNs never answers. */
const CONNECT_TIMEOUT_MS = 60_000;

/** The longest first line the inner relay accepts (an IPv4 address and a newline). */
const MAX_HEADER = 64;

const LOOPBACK_V4 = /^127\.(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){2}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** Whether `address` is an IPv4 loopback address the relays may bind or connect to. */
export function isLoopbackV4(address: string): boolean {
  return LOOPBACK_V4.test(address);
}

/** The outer relay's first line for a client: its address, as the inner relay reads it. */
export function relayHeader(clientAddress: string | undefined): string {
  // Node reports an IPv4 client of a dual-stack socket as ::ffff:a.b.c.d.
  const plain = (clientAddress ?? '').replace(/^::ffff:/i, '');
  return `${isLoopbackV4(plain) ? plain : '-'}\n`;
}

/**
 * Joins two half-open sockets both ways. The end of one side's input ends the other's output once
 * what is buffered is written, so what a server sends after its client's EOF still arrives; a
 * socket closes once both directions ended. A failing side ends both at once.
 */
function join(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const fail = (): void => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) s.on('error', fail);
}

function listening(server: Server, options: { host: string; port: number } | { path: string }): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ ...options, backlog: 512 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** The outer relay: listens on address:port here, and passes each client on to `socketPath`. */
export function startOuterRelay(address: string, port: number, socketPath: string): Promise<Server> {
  if (!isLoopbackV4(address)) throw new RangeError(`the lab relays only loopback addresses, not ${address}`);
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const inner = connect({ path: socketPath, allowHalfOpen: true });
    // Until the inner relay is there (the host still starting), a client is closed at once.
    inner.once('connect', () => {
      inner.write(relayHeader(client.remoteAddress));
      join(client, inner);
    });
    inner.once('error', () => client.destroy());
    client.once('error', () => inner.destroy());
  });
  return listening(server, { host: address, port });
}

/** The inner relay: listens on `socketPath` and connects each client to address:port from its own address. */
export function startInnerRelay(socketPath: string, address: string, port: number): Promise<Server> {
  if (!isLoopbackV4(address)) throw new RangeError(`the lab relays only loopback addresses, not ${address}`);
  const server = createServer({ allowHalfOpen: true }, (outer) => {
    let header = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      header = Buffer.concat([header, chunk]);
      const newline = header.indexOf(0x0a);
      if (newline < 0) {
        if (header.length > MAX_HEADER) outer.destroy();
        return;
      }
      outer.off('data', onData);
      outer.pause();
      const source = header.subarray(0, newline).toString('latin1');
      const rest = header.subarray(newline + 1);
      const target = connect({ host: address, port, allowHalfOpen: true, ...(isLoopbackV4(source) ? { localAddress: source } : {}) });
      const timer = setTimeout(() => target.destroy(new Error('sshd did not accept in time')), CONNECT_TIMEOUT_MS);
      target.once('connect', () => {
        clearTimeout(timer);
        if (rest.length > 0) target.write(rest);
        join(outer, target);
        outer.resume();
      });
      // Refused, or dropped until the timeout: the client is closed without a byte.
      target.once('close', () => clearTimeout(timer));
      target.once('error', () => outer.destroy());
      outer.once('error', () => target.destroy());
    };
    outer.on('data', onData);
  });
  return listening(server, { path: socketPath });
}

/**
 * `node net-relay-main.js outer ADDRESS PORT SOCKET` or `... inner SOCKET ADDRESS PORT`: runs one
 * relay until killed. Returns a message for a bad command line.
 */
export async function runRelay(args: readonly string[]): Promise<string | undefined> {
  const [mode, first, second, third] = args;
  if (mode === 'outer' && first && second && third) {
    await startOuterRelay(first, Number(second), third);
    return undefined;
  }
  if (mode === 'inner' && first && second && third) {
    await startInnerRelay(first, second, Number(third));
    return undefined;
  }
  return 'usage: net-relay-main.js outer ADDRESS PORT SOCKET | inner SOCKET ADDRESS PORT';
}
