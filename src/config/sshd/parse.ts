/**
 * Lossless sshd_config parsing: a file is a list of lines that rebuild the text byte for byte,
 * each with the keyword and arguments sshd would read from it.
 */
import { lexText, linesToText, type ConfigLine } from '../openssh/lexer.js';

/** One parsed file. Invariant: `stringifySshdConfig(parseSshdConfig(x, p)) === x`. */
export interface SshdConfigFile {
  /** Absolute path, as sshd would open it. */
  path: string;
  lines: readonly ConfigLine[];
}

export function parseSshdConfig(text: string, path: string): SshdConfigFile {
  return { path, lines: lexText(text) };
}

export function stringifySshdConfig(file: SshdConfigFile): string {
  return linesToText(file.lines);
}
