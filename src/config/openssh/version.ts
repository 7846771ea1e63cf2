/** "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10" or "OpenSSH_9.2, OpenSSL ..." -> "9.2p1" / "9.2". */
export function parseOpensshVersion(text: string): string | undefined {
  return /OpenSSH_([0-9]+\.[0-9]+(?:p[0-9]+)?)/.exec(text)?.[1];
}

/**
 * The release string an OpenSSH 10.x `sshd -V` prints before the comma (sshd.c prints
 * `SSH_RELEASE, SSH_OPENSSL_VERSION`): `OpenSSH_10.0p2`, or with the package's own suffix
 * (`OpenSSH_10.0p2 Debian-7+deb13u4`). It is what `Match Version` patterns are compared with.
 */
export function parseOpensshRelease(text: string): string | undefined {
  return /^(OpenSSH_[0-9][^,\n]*),/m.exec(text)?.[1];
}
