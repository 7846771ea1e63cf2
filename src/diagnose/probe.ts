/**
 * The runner's probe as diagnose reports it: which stage of a connection it reached, from the
 * transport's classified failure (one connection: TCP, banner, key exchange, authentication, a
 * session command). Pure: the transport error's code and details in, a ProbeResult out.
 */
import type { AlgorithmKind } from './log-lines.js';
import type { ProbeResult, ProbeStage } from './classify.js';

/** The parts of a transport failure the probe reads (TransportError has them). */
export interface ProbeFailure {
  code: string;
  message: string;
  details: Readonly<Record<string, unknown>>;
}

const STAGE_BY_CODE: Record<string, ProbeStage> = {
  dns: 'tcp',
  refused: 'tcp',
  unreachable: 'tcp',
  'closed-before-banner': 'banner',
  'kex-mismatch': 'kex',
  'cipher-mismatch': 'kex',
  'mac-mismatch': 'kex',
  'hostkey-algorithm-mismatch': 'kex',
  'host-key-unknown': 'kex',
  'host-key-changed': 'kex',
  'host-key-revoked': 'kex',
  'auth-failed': 'auth',
  'sudo-failed': 'session',
};

const CATEGORY_ALGORITHM: Record<string, AlgorithmKind> = { kex: 'kex', cipher: 'cipher', hmac: 'mac', serverHostKey: 'hostkey' };

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The stage a failed connection stopped at, and what the server showed of itself there. */
export function probeFromFailure(failure: ProbeFailure): ProbeResult {
  const { details } = failure;
  let stage = STAGE_BY_CODE[failure.code];
  if (stage === undefined) {
    // A timeout or lost connection: where it happened decides the stage.
    if (details.phase === 'tcp' || details.serverBanner === undefined) stage = details.phase === 'tcp' ? 'tcp' : 'banner';
    else stage = details.phase === 'authentication' ? 'auth' : 'kex';
  }
  const result: ProbeResult = { stage, message: failure.message };
  if (typeof details.preBanner === 'string') result.preBanner = details.preBanner;
  if (stage === 'banner' && typeof details.elapsedMs === 'number') result.closedBeforeBannerMs = details.elapsedMs;
  const algorithm = typeof details.category === 'string' ? CATEGORY_ALGORITHM[details.category] : undefined;
  if (algorithm) result.negotiation = { algorithm, client: strings(details.clientOffer), server: strings(details.serverOffer) };
  return result;
}

/** A probe that got all the way to running a command. */
export function probeSucceeded(serverBanner: string | undefined): ProbeResult {
  return { stage: 'ok', message: `logged in and ran a command${serverBanner ? ` (${serverBanner})` : ''}` };
}
