/** "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10" or "OpenSSH_9.2, OpenSSL ..." -> "9.2p1" / "9.2". */
export function parseOpensshVersion(text: string): string | undefined {
  return /OpenSSH_([0-9]+\.[0-9]+(?:p[0-9]+)?)/.exec(text)?.[1];
}
