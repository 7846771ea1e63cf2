/** hosts.allow / hosts.deny texts shared by the hosts-access unit tests. */

export const SSHGUARD_ALLOW = [
  '###sshguard###',
  'ALL : 203.0.113.9 198.51.100.4 [2001:db8::bad] : DENY',
  'ALL : 192.0.2.50 : DENY',
  '###sshguard###',
  '# site rules',
  'sshd: 10.0.0.0/8',
  'ALL: ALL: DENY',
  '',
].join('\n');

export const CORPUS: Record<string, string> = {
  empty: '',
  'lone newline': '\n',
  'comments only': '# hosts.allow: clients allowed in\n#\n# Example:  ALL: LOCAL @netgroup\n#\n',
  'management only': '# only the bastion\nsshd: 192.0.2.10 [2001:db8::10]\nALL: ALL : DENY\n',
  'deny all': '# refuse by default\nALL: ALL\n',
  'paranoid deny': 'ALL: PARANOID\nsshd: .example.com EXCEPT untrusted.example.com\n',
  continuation: 'sshd: 192.0.2.1, 192.0.2.2 \\\n      192.0.2.3 \\\n      192.0.2.4\nin.telnetd: LOCAL\n',
  'comment continued': '# old rule \\\nsshd: 10.0.0.1\nsshd: 10.0.0.2\n',
  crlf: 'sshd: 10.0.0.1\r\nALL: ALL: deny\r\n',
  'no final newline': 'sshd: 10.0.0.1\nALL: ALL',
  'continuation at end': 'sshd: 10.0.0.1 \\\n',
  options: 'sshd: 10.0.0.0/255.0.0.0: spawn (/usr/bin/logger -t wrap %a) &: ALLOW\nALL EXCEPT sshd: ALL: twist /bin/echo "no \\: service"\n',
  'odd spacing': '  sshd ,  telnetd\t:\t10.  ,  [2001:db8::]/32  \n\t\n   \n',
  'missing colon': 'sshd 10.0.0.1\nsshd: 10.0.0.2\n',
  'inline hash': 'sshd: 10.0.0.1 # office\n',
  'sshguard block': SSHGUARD_ALLOW,
  unicode: '# café ☕\nsshd: host.example.com\n',
};
