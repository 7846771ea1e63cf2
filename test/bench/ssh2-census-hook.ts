/**
 * Loaded into the sshfix process with `node --import`: wraps ssh2's Client.connect and
 * Client.exec to count, per host address, connections and exec requests, and writes the counts
 * to $SSHFIX_BENCH_CENSUS_FILE when the process exits. The wrappers only increment counters.
 */
import { writeFileSync } from 'node:fs';
import ssh2, { type ConnectConfig } from 'ssh2';
import { CENSUS_FILE_ENV, type Census, type HostCensus } from './ssh2-census.js';

interface Countable {
  connect(config: ConnectConfig): unknown;
  exec(...args: unknown[]): unknown;
  once(event: 'ready', listener: () => void): unknown;
}

const census: Census = {};
const hostOf = new WeakMap<object, HostCensus>();

function addressOf(config: ConnectConfig): string {
  // sshfix hands ssh2 a connected socket; its peer is the host.
  const sock = config.sock as { remoteAddress?: string } | undefined;
  return sock?.remoteAddress ?? config.host ?? 'unknown';
}

const proto = ssh2.Client.prototype as unknown as Countable;
const connect = proto.connect;
const exec = proto.exec;

proto.connect = function countedConnect(this: Countable, config: ConnectConfig): unknown {
  const address = addressOf(config);
  const entry = (census[address] ??= { connects: 0, authenticated: 0, execs: 0 });
  entry.connects++;
  hostOf.set(this, entry);
  this.once('ready', () => entry.authenticated++);
  return connect.call(this, config);
};

proto.exec = function countedExec(this: Countable, ...args: unknown[]): unknown {
  const entry = hostOf.get(this);
  if (entry) entry.execs++;
  return exec.apply(this, args);
};

const target = process.env[CENSUS_FILE_ENV];
if (target) process.on('exit', () => writeFileSync(target, JSON.stringify(census)));
