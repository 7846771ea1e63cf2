/**
 * Transport failures as the reports show them: `{ code, message, diagnosis }` (the JSON report's
 * `error` object) or two lines of text. Anything that is not a TransportError is a bug.
 */
import { TransportError } from './types.js';

export interface DescribedTransportError {
  /** A TransportErrorCode, or `internal` for a bug. */
  code: string;
  message: string;
  diagnosis: string;
}

export function describeTransportError(err: unknown): DescribedTransportError {
  if (err instanceof TransportError) return { code: err.code, message: err.message, diagnosis: err.diagnosis };
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: 'internal',
    message: `unexpected error in the transport: ${message}`,
    diagnosis: 'This is a bug in sshfix. Please report it with this message and the command you ran.',
  };
}
