/**
 * Resolving and connecting the TCP socket an SSH connection runs over. sshfix opens the socket
 * itself (rather than letting ssh2 do it) so that DNS, refusal and a silent network are told
 * apart before SSH starts, under one deadline, and so that what a server sends before its banner
 * can be seen.
 */
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';

/** An Error with a Node-style errno code, as the classifier expects. */
function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** RFC 6761: names under .invalid never resolve, and resolvers should not even ask. */
export function isReservedInvalidName(name: string): boolean {
  return /(^|\.)invalid\.?$/i.test(name);
}

async function resolveAddress(address: string, deadline: number): Promise<string> {
  if (isIP(address)) return address;
  if (isReservedInvalidName(address)) throw codedError('ENOTFOUND', `getaddrinfo ENOTFOUND ${address}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(codedError('EAI_AGAIN', `resolving ${address} timed out`)), Math.max(1, deadline - Date.now()));
  });
  try {
    const found = await Promise.race([lookup(address), timeout]);
    return found.address;
  } finally {
    clearTimeout(timer);
  }
}

export interface TcpRequest {
  address: string;
  port: number;
  localAddress?: string;
  /** Epoch milliseconds by which the connection must be established. */
  deadline: number;
}

/** Resolves to a connected socket, or rejects with an errno-coded error (ENOTFOUND, ECONNREFUSED, ETIMEDOUT, ...). */
export async function connectTcp(request: TcpRequest): Promise<Socket> {
  const host = await resolveAddress(request.address, request.deadline);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(codedError('ETIMEDOUT', `connect ETIMEDOUT ${host}:${request.port}`));
    }, Math.max(1, request.deadline - Date.now()));
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // ssh2 adds its own listener when it takes the socket; until then an error must not crash the run.
      socket.on('error', () => undefined);
      socket.setNoDelay(true);
      resolve(socket);
    });
    const options: { host: string; port: number; localAddress?: string } = { host, port: request.port };
    if (request.localAddress) options.localAddress = request.localAddress;
    socket.connect(options);
  });
}
