/**
 * `-v` and `-vv`, as Ansible users expect them: every command run on each host with its exit code
 * and duration (-v), and for sshfix's own scripts what each recorded fact was (-vv). A wrapper
 * around the transport, so the engine knows nothing of it. Never prints a command's input (which
 * may hold a sudo password's prompt answer) nor file contents.
 */
import { parseFactRecords } from '../engine/facts-script.js';
import type { Connection, ExecOptions, ExecResult, Transport } from '../transport/index.js';

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function describeCommand(command: string, stdinBytes: number | undefined): string {
  if (command === 'exec sh -s' && stdinBytes !== undefined) return `sh -s (a ${kib(stdinBytes)} script on stdin)`;
  const first = command.split('\n')[0] ?? '';
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

/** Lines describing the records a script printed (fact names, exit codes and sizes, files read). */
export function describeRecords(stdout: string): string[] {
  let raw;
  try {
    raw = parseFactRecords(stdout).raw;
  } catch {
    return [];
  }
  const lines = [...raw.commands].map(([name, c]) => `fact ${name}: exit ${c.exitCode}, ${kib(Buffer.byteLength(c.stdout))} out${c.exitCode !== 0 && c.stderr.trim() ? ` (${c.stderr.trim().split('\n')[0]?.slice(0, 100)})` : ''}`);
  for (const [path, file] of raw.files) lines.push(`file ${path}: ${kib(file.content.length)}, mode ${file.mode.toString(8)}`);
  for (const path of raw.missing) lines.push(`file ${path}: absent`);
  return lines;
}

function outcomeOf(result: ExecResult): string {
  return result.timedOut ? 'timed out' : result.exitCode !== null ? `exit ${result.exitCode}` : `signal ${result.signal ?? '?'}`;
}

function wrapConnection(connection: Connection, level: number, write: (line: string) => void): Connection {
  const report = (command: string, stdinBytes: number | undefined, result: ExecResult, stdout: Buffer): void => {
    write(`${connection.target.name}: ${describeCommand(command, stdinBytes)}${result.become ? ' (sudo)' : ''}: ${outcomeOf(result)}, ${result.durationMs} ms`);
    if (level >= 2) for (const line of describeRecords(stdout.toString('utf8'))) write(`${connection.target.name}:   ${line}`);
  };
  return {
    target: connection.target,
    get info() {
      return connection.info;
    },
    async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
      const result = await connection.exec(command, options);
      report(command, options?.stdin === undefined ? undefined : Buffer.byteLength(options.stdin), result, result.stdout);
      return result;
    },
    // A stream is told as one command: all its input, its exit, and (-vv) the records of all it printed.
    async stream(command, options) {
      const stream = await connection.stream(command, options);
      let written = 0;
      const read: Buffer[] = [];
      return {
        write: (data) => {
          written += Buffer.byteLength(data);
          stream.write(data);
        },
        async readUntil(delimiter, timeoutMs) {
          const before = await stream.readUntil(delimiter, timeoutMs);
          if (before) read.push(before);
          return before;
        },
        async end(timeoutMs) {
          const result = await stream.end(timeoutMs);
          report(command, written, result, Buffer.concat([...read, result.stdout]));
          return result;
        },
      };
    },
    close: () => connection.close(),
  };
}

/** The transport itself at level 0; otherwise one that reports every command run. */
export function verboseTransport(transport: Transport, level: number, write: (line: string) => void): Transport {
  if (level <= 0) return transport;
  return {
    get jumpConnectionsOpened() {
      return transport.jumpConnectionsOpened;
    },
    connect: async (target) => {
      const started = Date.now();
      const connection = await transport.connect(target);
      write(
        target.local
          ? `${target.name}: running commands locally as ${connection.target.user}`
          : `${target.name}: connected to ${target.address}:${target.port} as ${target.user} in ${Date.now() - started} ms (${connection.info.serverBanner ?? 'no banner'})`,
      );
      return wrapConnection(connection, level, write);
    },
    closeAll: () => transport.closeAll(),
  };
}
