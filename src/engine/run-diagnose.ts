/**
 * `diagnose` across hosts: per host, probe from the runner with one connection (TCP, banner, key
 * exchange, authentication, a command), read the host's evidence in one more round trip when the
 * login works, hold a quiet session for `--idle-probe`, and classify (pure, src/diagnose/).
 */
import { classifyDrop, type Diagnosis, type HostEvidence, type IdleProbeResult, type ProbeResult } from '../diagnose/classify.js';
import { buildEvidenceScript, interpretEvidence } from '../diagnose/evidence-script.js';
import { probeFromFailure, probeSucceeded } from '../diagnose/probe.js';
import { toConnectTarget } from '../model/connect-target.js';
import type { Inventory, ResolvedHost } from '../model/inventory.js';
import { describeTransportError, TransportError, type Connection, type Transport } from '../transport/index.js';
import { parseFactOutput } from './facts-script.js';
import { runPool } from './run-plan.js';

/** What diagnose reports of a host in progress (the CLI renders it). */
export interface DiagnoseProgress {
  stage(host: string, text: string): void;
  done(host: string, status: 'ok' | 'failed' | 'unreachable' | 'changed' | 'skipped', detail?: string): void;
}

export interface DiagnoseRunOptions {
  transport: Transport;
  inventory: Inventory;
  hosts: readonly ResolvedHost[];
  /** The client whose drops to explain; default: the runner's address as each host sees it. */
  client?: string;
  /** The account; default: each host's inventory user. */
  user?: string;
  symptom: 'connect' | 'idle';
  sinceMs: number;
  idleProbeMs?: number;
  forks: number;
  progress: DiagnoseProgress;
  now: () => number;
  applyCommand: string;
  playbooks: ReadonlySet<string>;
}

/** One host's diagnosis, as the JSON report shows it. */
export interface DiagnosedHost extends Diagnosis {
  name: string;
  address: string;
  client: string;
  user: string;
  probe: ProbeResult;
  /** False when the runner could not read the host's own evidence. */
  evidenceRead: boolean;
  /** Why the diagnosis is incomplete (the evidence script failed, ...). */
  error?: { code: string; message: string };
}

/** Holds a session that sends nothing for `ms` and tells whether and when it was closed. */
async function holdQuietSession(open: () => Promise<Connection>, ms: number): Promise<IdleProbeResult> {
  const connection = await open();
  const started = Date.now();
  try {
    const seconds = Math.max(1, Math.round(ms / 1000));
    const result = await connection.exec(`sleep ${seconds}; echo held`, { become: false, timeoutMs: ms + 30_000 });
    const elapsed = Date.now() - started;
    const held = result.exitCode === 0 && result.stdout.toString('utf8').includes('held');
    return held ? { heldMs: ms } : { heldMs: ms, closedAfterMs: elapsed };
  } catch {
    return { heldMs: ms, closedAfterMs: Date.now() - started };
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function diagnoseHost(host: ResolvedHost, options: DiagnoseRunOptions): Promise<DiagnosedHost> {
  const target = toConnectTarget(options.inventory, host);
  const user = options.user ?? host.user;
  let probe: ProbeResult;
  let connection: Connection | undefined;
  let client = options.client;
  let evidence: HostEvidence | undefined;
  let error: DiagnosedHost['error'];
  let idleProbe: IdleProbeResult | undefined;
  options.progress.stage(host.name, 'probing');
  try {
    connection = await options.transport.connect(target);
    // The session proof, and where the host sees the runner come from (and itself listen).
    const seen = await connection.exec('printenv SSH_CONNECTION', { become: false, timeoutMs: 30_000 });
    probe = probeSucceeded(connection.info.serverBanner);
    const [runnerAddress, , localAddress, localPort] = seen.stdout.toString('utf8').trim().split(/\s+/);
    client ??= runnerAddress ?? host.address;
    options.progress.stage(host.name, 'reading evidence');
    const now = options.now();
    const script = buildEvidenceScript({
      client,
      user,
      localAddress: localAddress ?? host.address,
      localPort: Number(localPort ?? host.port) || host.port,
      sinceEpochS: (now - options.sinceMs) / 1000,
    });
    const result = await connection.exec('exec sh -s', { stdin: script, timeoutMs: 120_000 });
    if (result.exitCode !== 0) {
      error = { code: 'evidence-failed', message: `reading the host's evidence failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.toString('utf8').trim().slice(-300)}` };
    } else {
      const raw = parseFactOutput(result.stdout.toString('utf8'));
      if (raw.commands.get('id')?.stdout.trim() !== '0') {
        error = { code: 'needs-root', message: 'the evidence was read without root: fail2ban, firewall and log state may be missing (set become: sudo)' };
      }
      evidence = interpretEvidence(raw.commands, { client, since: now - options.sinceMs, now });
    }
    if (options.symptom === 'idle' && options.idleProbeMs !== undefined) {
      options.progress.stage(host.name, `holding a quiet session for ${Math.round(options.idleProbeMs / 1000)}s`);
      idleProbe = await holdQuietSession(() => options.transport.connect({ ...target, keepaliveIntervalS: 0 }), options.idleProbeMs);
    }
  } catch (caught) {
    if (caught instanceof TransportError && connection === undefined) {
      probe = probeFromFailure({ code: caught.code, message: caught.message, details: caught.details });
    } else {
      probe ??= probeSucceeded(connection?.info.serverBanner);
      error = { code: 'diagnose-failed', message: describeTransportError(caught).message };
    }
  } finally {
    await connection?.close().catch(() => undefined);
  }
  const clientShown = client ?? target.localAddress ?? 'the runner';
  const diagnosis = classifyDrop({
    host: { name: host.name, address: host.address },
    client: clientShown,
    user,
    symptom: options.symptom,
    probe,
    ...(evidence ? { evidence } : {}),
    ...(idleProbe ? { idleProbe } : {}),
    applyCommand: options.applyCommand,
    playbooks: options.playbooks,
  });
  return { name: host.name, address: host.address, client: clientShown, user, probe, evidenceRead: evidence !== undefined, ...diagnosis, ...(error ? { error } : {}) };
}

/** Diagnoses every host (at most `forks` at a time); the result follows the order of `hosts`. */
export async function runDiagnose(options: DiagnoseRunOptions): Promise<DiagnosedHost[]> {
  return runPool(options.hosts, options.forks, async (host) => {
    const result = await diagnoseHost(host, options);
    const status = result.causes.length > 0 ? 'changed' : !result.evidenceRead && result.probe.stage !== 'ok' ? 'unreachable' : 'ok';
    options.progress.done(host.name, status === 'changed' ? 'failed' : status, result.causes.map((c) => c.code).join(', ') || (status === 'ok' ? 'no cause found' : result.probe.stage));
    return result;
  });
}
