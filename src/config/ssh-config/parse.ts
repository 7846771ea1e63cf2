/** Lossless ssh_config parsing: the client reads lines exactly as sshd does (see ../openssh/lexer.ts). */
import { parseSshdConfig, stringifySshdConfig, type SshdConfigFile } from '../sshd/parse.js';

export type SshConfigFile = SshdConfigFile;
export const parseSshConfig: (text: string, path: string) => SshConfigFile = parseSshdConfig;
export const stringifySshConfig: (file: SshConfigFile) => string = stringifySshdConfig;
