/**
 * The starting points lab hosts are seeded with: realistic sshd layouts taken from the field guide's
 * causes. Pure data: the lab writes these files into each host's private /etc before sshd starts.
 */

/** A file to place on a lab host, by absolute path inside the host. */
export interface SeedFile {
  path: string;
  content: string;
  /** Octal permission bits; 0o644 when absent. */
  mode?: number;
}

export interface LabScenario {
  /** Stable identifier, also the inventory group the lab puts such hosts in. */
  name: string;
  /** One line for `lab status` and the inventory comments. */
  summary: string;
  /** Files present before sshd starts. Every lab host also gets its own host keys and accounts. */
  files: readonly SeedFile[];
  /**
   * Files written once sshd is listening: a broken drop-in that nobody has reloaded yet is a real
   * situation, and sshd would refuse to start with it.
   */
  filesAfterStart?: readonly SeedFile[];
  /** Daemons the host runs beside sshd, started inside its namespaces before sshd. */
  daemons?: readonly LabDaemon[];
  /** The OpenSSH build the scenario needs (`scripts/build-openssh.sh`), unless the lab names another. */
  openssh?: string;
  /**
   * A network namespace of its own: its firewall (nft, ipset, iptables) is private to it, so a
   * daemon may block addresses there without touching the machine's. A relay on the host's address
   * carries each connection in from the client's own address (see net-relay.ts).
   */
  ownNetwork?: boolean;
  /**
   * Commands the host's boot runs inside its own network namespace before its daemons start, as
   * its firewall setup would (only with `ownNetwork`: they must not touch the machine's firewall).
   */
  networkSetup?: readonly string[];
}

/** A daemon the lab knows how to start inside a host (lab.ts holds the command line). */
export type LabDaemon = 'fail2ban' | 'sshguard';

/** Debian 12's /usr/share/openssh/sshd_config (openssh-server 1:9.2p1), as a freshly installed host has it. */
export const DEBIAN_12_SSHD_CONFIG = `
# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

# This sshd was compiled with PATH=/usr/local/bin:/usr/bin:/bin:/usr/games

# The strategy used for options in the default sshd_config shipped with
# OpenSSH is to specify options with their default value where
# possible, but leave them commented.  Uncommented options override the
# default value.

Include /etc/ssh/sshd_config.d/*.conf

#Port 22
#AddressFamily any
#ListenAddress 0.0.0.0
#ListenAddress ::

#HostKey /etc/ssh/ssh_host_rsa_key
#HostKey /etc/ssh/ssh_host_ecdsa_key
#HostKey /etc/ssh/ssh_host_ed25519_key

# Ciphers and keying
#RekeyLimit default none

# Logging
#SyslogFacility AUTH
#LogLevel INFO

# Authentication:

#LoginGraceTime 2m
#PermitRootLogin prohibit-password
#StrictModes yes
#MaxAuthTries 6
#MaxSessions 10

#PubkeyAuthentication yes

# Expect .ssh/authorized_keys2 to be disregarded by default in future.
#AuthorizedKeysFile	.ssh/authorized_keys .ssh/authorized_keys2

#AuthorizedPrincipalsFile none

#AuthorizedKeysCommand none
#AuthorizedKeysCommandUser nobody

# For this to work you will also need host keys in /etc/ssh/ssh_known_hosts
#HostbasedAuthentication no
# Change to yes if you don't trust ~/.ssh/known_hosts for
# HostbasedAuthentication
#IgnoreUserKnownHosts no
# Don't read the user's ~/.rhosts and ~/.shosts files
#IgnoreRhosts yes

# To disable tunneled clear text passwords, change to no here!
#PasswordAuthentication yes
#PermitEmptyPasswords no

# Change to yes to enable challenge-response passwords (beware issues with
# some PAM modules and threads)
KbdInteractiveAuthentication no

# Kerberos options
#KerberosAuthentication no
#KerberosOrLocalPasswd yes
#KerberosTicketCleanup yes
#KerberosGetAFSToken no

# GSSAPI options
#GSSAPIAuthentication no
#GSSAPICleanupCredentials yes
#GSSAPIStrictAcceptorCheck yes
#GSSAPIKeyExchange no

# Set this to 'yes' to enable PAM authentication, account processing,
# and session processing. If this is enabled, PAM authentication will
# be allowed through the KbdInteractiveAuthentication and
# PasswordAuthentication.  Depending on your PAM configuration,
# PAM authentication via KbdInteractiveAuthentication may bypass
# the setting of "PermitRootLogin prohibit-password".
# If you just want the PAM account and session checks to run without
# PAM authentication, then enable this but set PasswordAuthentication
# and KbdInteractiveAuthentication to 'no'.
UsePAM yes

#AllowAgentForwarding yes
#AllowTcpForwarding yes
#GatewayPorts no
X11Forwarding yes
#X11DisplayOffset 10
#X11UseLocalhost yes
#PermitTTY yes
PrintMotd no
#PrintLastLog yes
#TCPKeepAlive yes
#PermitUserEnvironment no
#Compression delayed
#ClientAliveInterval 0
#ClientAliveCountMax 3
#UseDNS no
#PidFile /run/sshd.pid
#MaxStartups 10:30:100
#PermitTunnel no
#ChrootDirectory none
#VersionAddendum none

# no default banner path
#Banner none

# Allow client to pass locale environment variables
AcceptEnv LANG LC_*

# override default of no subsystems
Subsystem	sftp	/usr/lib/openssh/sftp-server

# Example of overriding settings on a per-user basis
#Match User anoncvs
#	X11Forwarding no
#	AllowTcpForwarding no
#	PermitTTY no
#	ForceCommand cvs server
`;

const sshdConfig = (content: string): SeedFile => ({ path: '/etc/ssh/sshd_config', content });
const dropIn = (name: string, content: string): SeedFile => ({ path: `/etc/ssh/sshd_config.d/${name}`, content });

/** The administrator hardened the main file; cloud-init's drop-in, read first, silently wins. */
const debianCloud: LabScenario = {
  name: 'debian-cloud',
  summary: 'Debian 12 stock config; a cloud-init drop-in overrides the main file',
  files: [
    sshdConfig(
      DEBIAN_12_SSHD_CONFIG.replace(
        '#PasswordAuthentication yes',
        '# Passwords off: keys only (ticket OPS-1182)\nPasswordAuthentication no',
      ).replace('#ClientAliveInterval 0', 'ClientAliveInterval 0'),
    ),
    dropIn('50-cloud-init.conf', 'PasswordAuthentication yes\n'),
  ],
};

/** CIS-style hardening: settings repeated further down and a tail of Match blocks. */
const hardenedMatch: LabScenario = {
  name: 'hardened-match',
  summary: 'hardened config ending in Match blocks, MaxStartups set twice',
  files: [
    sshdConfig(`# Managed by the security baseline (CIS 5.2). Local edits are overwritten.
Include /etc/ssh/sshd_config.d/*.conf

LogLevel VERBOSE
PermitRootLogin prohibit-password
MaxAuthTries 4
MaxSessions 4
LoginGraceTime 60
PermitEmptyPasswords no
HostbasedAuthentication no
IgnoreRhosts yes
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
ClientAliveInterval 300
ClientAliveCountMax 0
MaxStartups 10:30:60
Banner /etc/issue.net
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp

# 5.2.21: throttle unauthenticated connections
MaxStartups 10:30:100

Match Group sftponly
    ChrootDirectory /srv/sftp/%u
    ForceCommand internal-sftp
    AllowTcpForwarding no

Match Address 10.20.0.0/16
    PasswordAuthentication yes
    MaxAuthTries 6
`),
  ],
};

/** RHEL 9 layout: algorithms come from the crypto-policies back-end through a drop-in. */
const rhelLayout: LabScenario = {
  name: 'rhel-layout',
  summary: 'RHEL 9 layout: 50-redhat.conf includes the crypto-policies file',
  files: [
    sshdConfig(`#	$OpenBSD: sshd_config,v 1.104 2021/07/02 05:11:21 dtucker Exp $

# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

# To modify the system-wide sshd configuration, create a  *.conf  file under
#  /etc/ssh/sshd_config.d/  which will be automatically included below
Include /etc/ssh/sshd_config.d/*.conf

# If you want to change the port on a SELinux system, you have to tell
# SELinux about this change.
# semanage port -a -t ssh_port_t -p tcp #PORTNUMBER
#
#Port 22
#AddressFamily any
#ListenAddress 0.0.0.0
#ListenAddress ::

#HostKey /etc/ssh/ssh_host_rsa_key
#HostKey /etc/ssh/ssh_host_ecdsa_key
#HostKey /etc/ssh/ssh_host_ed25519_key

# Logging
#SyslogFacility AUTH
#LogLevel INFO

# Authentication:

#LoginGraceTime 2m
PermitRootLogin prohibit-password
#StrictModes yes
#MaxAuthTries 6
#MaxSessions 10

#PubkeyAuthentication yes

# The default is to check both .ssh/authorized_keys and .ssh/authorized_keys2
# but this is overridden so installations will only check .ssh/authorized_keys
AuthorizedKeysFile	.ssh/authorized_keys

# To disable tunneled clear text passwords, change to no here!
#PasswordAuthentication yes
#PermitEmptyPasswords no

#AllowAgentForwarding yes
#AllowTcpForwarding yes
#GatewayPorts no
#X11Forwarding no
#PermitTTY yes
#PrintMotd yes
#TCPKeepAlive yes
#ClientAliveInterval 0
#ClientAliveCountMax 3
#UseDNS no
#PidFile /var/run/sshd.pid
#MaxStartups 10:30:100

# no default banner path
#Banner none

# override default of no subsystems (the lab keeps Debian's sftp-server path)
Subsystem	sftp	/usr/lib/openssh/sftp-server
`),
    dropIn(
      '50-redhat.conf',
      `# The lines below are RHEL's defaults; the crypto policy supplies the algorithms.
# This system is following system-wide crypto policy. The changes to
# crypto properties (Ciphers, MACs, ...) will not have any effect in
# this or following included files. To override some configuration option,
# write it before this block or include it before this file.
# Please, see manual pages for update-crypto-policies(8) and sshd_config(5).
Include /etc/crypto-policies/back-ends/opensshserver.config

SyslogFacility AUTHPRIV

ChallengeResponseAuthentication no

GSSAPIAuthentication yes
GSSAPICleanupCredentials no

UsePAM yes

X11Forwarding yes

# It is recommended to use pam_motd in /etc/pam.d/sshd instead of PrintMotd,
# as it is more configurable and versatile than the built-in version.
PrintMotd no
`,
    ),
    {
      path: '/etc/crypto-policies/back-ends/opensshserver.config',
      content: `Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,aes128-gcm@openssh.com,aes128-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha1,umac-128@openssh.com,hmac-sha2-512
GSSAPIKexAlgorithms gss-curve25519-sha256-,gss-nistp256-sha256-,gss-group14-sha256-,gss-group16-sha512-
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512
HostKeyAlgorithms ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com
PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com
CASignatureAlgorithms ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,rsa-sha2-256,rsa-sha2-512
RequiredRSASize 2048
`,
    },
  ],
};

/** Someone copied a "hardening" snippet: three unauthenticated connections and sshd starts dropping. */
const tightMaxStartups: LabScenario = {
  name: 'tight-maxstartups',
  summary: 'MaxStartups 3:50:6 sheds concurrent logins',
  files: [
    sshdConfig(DEBIAN_12_SSHD_CONFIG),
    dropIn('10-hardening.conf', '# From a hardening guide\nMaxStartups 3:50:6\nLoginGraceTime 20\n'),
  ],
};

/** The backup account exists but is not listed: its logins are closed right after authentication. */
const allowUsers: LabScenario = {
  name: 'allowusers',
  summary: 'AllowUsers lets root and deploy in, not backup',
  files: [sshdConfig(DEBIAN_12_SSHD_CONFIG), dropIn('20-access.conf', '# Only admins\nAllowUsers root deploy\n')],
};

/** An old build appliance: only a SHA-1 group exchange the default clients no longer offer. */
const legacyKex: LabScenario = {
  name: 'legacy-kex',
  summary: 'offers only diffie-hellman-group14-sha1 for key exchange',
  files: [
    sshdConfig(DEBIAN_12_SSHD_CONFIG),
    dropIn('30-legacy.conf', '# Appliance firmware constraint\nKexAlgorithms diffie-hellman-group14-sha1\n'),
  ],
};

/** A drop-in with a typo was written but sshd was never reloaded: the next reload would kill sshd. */
const brokenDropIn: LabScenario = {
  name: 'broken-dropin',
  summary: 'a drop-in with an invalid line, written after sshd started',
  files: [sshdConfig(DEBIAN_12_SSHD_CONFIG)],
  filesAfterStart: [dropIn('40-broken.conf', '# half-finished change\nClientAliveInterval 60\nMaxStartups 10:30\n')],
};

/**
 * Debian's fail2ban with its stock sshd jail, banning through TCP wrappers: Debian's sshd links
 * libwrap, so a banned client's connection is accepted, gets no banner and is closed.
 */
const fail2ban: LabScenario = {
  name: 'fail2ban',
  summary: 'fail2ban bans through hosts.deny after 3 failed logins',
  files: [
    sshdConfig(DEBIAN_12_SSHD_CONFIG),
    {
      path: '/etc/fail2ban/jail.d/sshd.local',
      // polling: the lab's log receiver appends to the file from outside the host's overlay, which
      // inotify inside the host would not see.
      content: `# Brute-force protection (ticket OPS-2210)
[DEFAULT]
banaction = hostsdeny

[sshd]
enabled = true
backend = polling
maxretry = 3
findtime = 1h
bantime = 1h
`,
    },
  ],
  daemons: ['fail2ban'],
};

/**
 * OpenSSH 10 after an upgrade: PerSourcePenalties (on by default since 9.8) penalises an address
 * whose logins keep failing, e.g. a CI runner with a stale key, and then refuses every connection
 * from it, its good logins included, with "Not allowed at this time".
 */
const penalties: LabScenario = {
  name: 'penalties',
  summary: 'OpenSSH 10 penalises addresses whose logins fail (PerSourcePenalties)',
  files: [
    sshdConfig(DEBIAN_12_SSHD_CONFIG),
    dropIn('50-penalties.conf', '# Brute-force protection after the upgrade to OpenSSH 10 (ticket OPS-2291)\nPerSourcePenalties authfail:10 max:600\n'),
  ],
  openssh: '10.0p1',
};

/** Debian's /etc/hosts.allow and /etc/hosts.deny headers (tcpd / libwrap0), as an installed host has them. */
const HOSTS_ALLOW_HEADER = `# /etc/hosts.allow: list of hosts that are allowed to access the system.
#                   See the manual pages hosts_access(5) and hosts_options(5).
#
# Example:    ALL: LOCAL @some_netgroup
#             ALL: .foobar.edu EXCEPT terminalserver.foobar.edu
#
# If you're going to protect the portmapper use the name "rpcbind" for the
# daemon name. See rpcbind(8) and rpc.mountd(8) for further information.
#
`;

const HOSTS_DENY_HEADER = `# /etc/hosts.deny: list of hosts that are _not_ allowed to access the system.
#                  See the manual pages hosts_access(5) and hosts_options(5).
#
`;

/**
 * TCP wrappers lock sshd down to a management range, and a later line of hosts.allow refuses the
 * rest of 127.0.0.0/24: the runner (127.0.0.1) gets in, a client at 127.0.0.9 has its connection
 * accepted and closed by libwrap (Debian's sshd links it) before any banner.
 */
const tcpWrappers: LabScenario = {
  name: 'tcp-wrappers',
  summary: 'hosts.allow admits only a management range; hosts.deny refuses everyone else',
  files: [
    sshdConfig(DEBIAN_12_SSHD_CONFIG),
    {
      path: '/etc/hosts.allow',
      content: `${HOSTS_ALLOW_HEADER}# Management network and the bastion (OPS-1742)
sshd: 127.0.0.1 127.77.0.0/16
# Contractor range closed after the audit (SEC-88)
sshd: 127.0.0.0/24 : DENY
`,
    },
    { path: '/etc/hosts.deny', content: `${HOSTS_DENY_HEADER}# Default deny: only what hosts.allow names gets to sshd
sshd: ALL
` },
  ],
};

/** The sshguard.conf of the sshguard scenarios: only the backend script, its purpose and the ticket differ. */
const sshguardConf = (backend: string, purpose: string, ticket: string): SeedFile => ({
  path: '/etc/sshguard/sshguard.conf',
  content: `# Brute-force protection ${purpose} (${ticket})
BACKEND="/usr/libexec/sshguard/${backend}"
FILES="/var/log/auth.log"
THRESHOLD=30
BLOCK_TIME=120
DETECTION_TIME=1800
BLACKLIST_FILE=120:/var/lib/sshguard/enemies
WHITELIST_FILE=/etc/sshguard/whitelist
`,
});

/** The whitelist (with `extra` entries) and blacklist of the sshguard scenarios: at start sshguard blocks 127.0.0.9 and 127.0.0.10. */
const sshguardLists = (ticket: string, extra = ''): SeedFile[] => [
  { path: '/etc/sshguard/whitelist', content: `# Address blocks in CIDR notation\n# Office VPN (${ticket})\n10.8.0.0/16\n${extra}` },
  { path: '/var/lib/sshguard/enemies', content: '1764500000|100|4|127.0.0.9\n1764500100|100|4|127.0.0.10\n' },
];

/**
 * sshguard with its TCP wrappers backend (`sshg-fw-hosts`, which keeps its block between two
 * `###sshguard###` lines at the top of hosts.allow) reading the host's auth.log. Debian's whitelist
 * holds 127.0.0.0/8; this one does not, so at start sshguard blocks the loopback clients its
 * blacklist file lists (127.0.0.9 and 127.0.0.10) while the runner at 127.0.0.1 still gets in.
 */
const sshguard: LabScenario = {
  name: 'sshguard',
  summary: 'sshguard blocks through hosts.allow (hosts backend), reading auth.log',
  files: [
    sshdConfig(DEBIAN_12_SSHD_CONFIG),
    sshguardConf('sshg-fw-hosts', 'through TCP wrappers', 'OPS-2211'),
    ...sshguardLists('OPS-2211', '::1/128\n'),
    { path: '/etc/hosts.allow', content: HOSTS_ALLOW_HEADER },
  ],
  daemons: ['sshguard'],
};

/**
 * sshguard with its nftables backend (`sshg-fw-nft-sets`: the set `attackers` in the tables `ip
 * sshguard` and `ip6 sshguard`, dropped in an input hook), in a network namespace of the host's
 * own, so its blocks are real without touching the machine's firewall. At start it blocks what its
 * blacklist lists (127.0.0.9, 127.0.0.10): a client from those addresses gets no answer, while the
 * runner at 127.0.0.1 still gets in.
 */
const sshguardNft: LabScenario = {
  name: 'sshguard-nft',
  summary: 'sshguard blocks through an nftables set (own network namespace)',
  files: [sshdConfig(DEBIAN_12_SSHD_CONFIG), sshguardConf('sshg-fw-nft-sets', 'in the host firewall', 'OPS-2230'), ...sshguardLists('OPS-2230')],
  daemons: ['sshguard'],
  ownNetwork: true,
};

/**
 * sshguard with its ipset backend (`sshg-fw-ipset`: the sets sshguard4 and sshguard6, which the
 * host's own firewall rules drop, as sshguard's setup guide has them), in a network namespace of
 * its own.
 */
const sshguardIpset: LabScenario = {
  name: 'sshguard-ipset',
  summary: 'sshguard blocks through an ipset its iptables rule drops (own network namespace)',
  files: [sshdConfig(DEBIAN_12_SSHD_CONFIG), sshguardConf('sshg-fw-ipset', 'in the host firewall', 'OPS-2231'), ...sshguardLists('OPS-2231')],
  daemons: ['sshguard'],
  ownNetwork: true,
  networkSetup: ['ipset -exist create sshguard4 hash:net family inet', 'iptables -w -I INPUT -m set --match-set sshguard4 src -j DROP'],
};

/**
 * sshguard with its iptables backend (`sshg-fw-iptables`: a DROP rule per block in the chain
 * `sshguard`, which the host's firewall creates and jumps to from INPUT, as sshguard's setup guide
 * has it), in a network namespace of its own.
 */
const sshguardIptables: LabScenario = {
  name: 'sshguard-iptables',
  summary: 'sshguard blocks through its iptables chain (own network namespace)',
  files: [sshdConfig(DEBIAN_12_SSHD_CONFIG), sshguardConf('sshg-fw-iptables', 'in the host firewall', 'OPS-2232'), ...sshguardLists('OPS-2232')],
  daemons: ['sshguard'],
  ownNetwork: true,
  networkSetup: ['iptables -w -N sshguard', 'iptables -w -A INPUT -j sshguard'],
};

/** In seeding order: a lab of N hosts takes them round-robin. */
export const LAB_SCENARIOS: readonly LabScenario[] = [
  debianCloud,
  hardenedMatch,
  rhelLayout,
  tightMaxStartups,
  allowUsers,
  legacyKex,
  brokenDropIn,
];

/**
 * Scenarios a lab gets only when `--scenarios` names them: fail2ban and sshguard run a daemon per host (a
 * fail2ban server is a Python process of about 20 MB), which a default lab of hundreds of hosts
 * should not multiply; penalties runs an OpenSSH build that a machine may not have; tcp-wrappers
 * refuses test clients the default lab's tests expect to get in.
 */
export const ON_REQUEST_SCENARIOS: readonly LabScenario[] = [fail2ban, penalties, tcpWrappers, sshguard, sshguardNft, sshguardIpset, sshguardIptables];

export function findLabScenario(name: string): LabScenario | undefined {
  return [...LAB_SCENARIOS, ...ON_REQUEST_SCENARIOS].find((s) => s.name === name);
}
