/**
 * What the rest of sshfix uses of the transport. Everything else in this folder is internal.
 */
export type { ConnectTarget, Connection, ConnectionInfo, ExecOptions, ExecResult, ExecStream, StreamOptions, TransportErrorCode } from './types.js';
export { TransportError } from './types.js';
export { connectSsh, createTransport, DEFAULT_HANDSHAKES_PER_JUMP, type Transport, type TransportOptions } from './transport.js';
export type { TransportWarning } from './host-key-verifier.js';
export { connectLocal, type LocalConnectOptions } from './local-connection.js';
export { describeTransportError, type DescribedTransportError } from './describe-error.js';
export { resolveAlgorithmList, SSH2_ALGORITHMS, ALGORITHM_CATEGORIES, type AlgorithmCategory } from './algorithms.js';
export type { SecretPrompt } from './passphrase-prompt.js';
