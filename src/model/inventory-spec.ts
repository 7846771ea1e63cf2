import type { ArraySpec, ObjectSpec, Spec, StringSpec } from '../lang/spec.js';

/**
 * The inventory file's shape: the single definition behind the inventory validator and
 * schemas/inventory.schema.json.
 */

export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** Host names as written in the file: plain names plus `[a:b]` ranges. IPv6 literals go in `address`. */
export const HOST_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.\\-\\[\\]:]*$';
export const GROUP_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.\\-]*$';
const ALGORITHM_ENTRY_PATTERN = '^[+\\-^]?[A-Za-z0-9@._\\-]+(,[+\\-^]?[A-Za-z0-9@._\\-]+)*$';

/** Variables: any YAML value under a name usable in `{{ name }}`. */
export const varsSpec: ObjectSpec = {
  type: 'object',
  title: 'vars',
  description: 'Variables for {{ name }} substitution in playbooks. Values are literal (no {{ }} inside).',
  properties: {},
  additional: { type: 'any' },
  keys: { pattern: VARIABLE_NAME_PATTERN, invalid: { code: 'bad-variable-name', expected: 'a variable name (letters, digits and _, not starting with a digit)' } },
  nullable: true,
};

const envName = (what: string): StringSpec => ({
  type: 'string',
  pattern: ENV_NAME_PATTERN,
  invalid: { code: 'bad-env-name', expected: 'the name of an environment variable' },
  description: `Name of the environment variable that holds the ${what} (the secret itself never goes in this file).`,
});

const path = (description: string): StringSpec => ({
  type: 'string',
  pattern: '^(?!~[^/]).+$',
  invalid: { code: 'bad-path', expected: 'a path (~ and ~/... expand to your home; ~user is not supported)' },
  description,
});

const algorithmList = (what: string): ArraySpec => ({
  type: 'array',
  single: true,
  description: `${what}. Entries as in ssh_config: a plain list replaces the defaults; entries starting with + are appended, - removed, ^ moved to the front.`,
  items: {
    type: 'string',
    pattern: ALGORITHM_ENTRY_PATTERN,
    invalid: { code: 'bad-algorithm', expected: 'an algorithm name, optionally prefixed with +, - or ^' },
  },
});

const secret = (key: string): { code: string; message: string; hint: string } => ({
  code: 'secret-in-inventory',
  message: `"${key}" would put a secret in the inventory`,
  hint: `name the environment variable that holds it instead: ${key}_env: MY_${key.toUpperCase()}`,
});

/** Connection settings: allowed in `defaults`, on a group and on a host. */
export const connectionProperties: Readonly<Record<string, Spec>> = {
  user: {
    type: 'string',
    pattern: '^[A-Za-z0-9_][A-Za-z0-9_.\\-]*\\$?$',
    invalid: { code: 'bad-user', expected: 'a login name' },
    description: 'Login name. Default: the user running sshfix.',
  },
  port: {
    type: 'integer',
    minimum: 1,
    maximum: 65535,
    invalid: { code: 'bad-port', expected: 'a whole number from 1 to 65535' },
    description: 'SSH port. Default: 22.',
  },
  identity_file: path('Private key file. Relative paths are relative to the inventory file.'),
  agent: { type: 'boolean', description: 'Authenticate with the ssh-agent at $SSH_AUTH_SOCK. Default: false.' },
  known_hosts: path('known_hosts file checked (and, with accept-new, appended to). Default: ~/.ssh/known_hosts.'),
  host_key_policy: {
    type: 'string',
    enum: ['strict', 'accept-new', 'off'],
    description: 'strict: the host key must be in known_hosts; accept-new: record unknown keys, refuse changed ones; off: no check (labs only). Default: strict.',
  },
  connection: {
    type: 'string',
    enum: ['ssh', 'local'],
    description: 'ssh: log in over SSH; local: the host is the machine running sshfix, reached without SSH (commands run as the user running sshfix, through sudo with become: sudo). Default: ssh.',
  },
  become: {
    type: 'string',
    enum: ['none', 'sudo'],
    description: 'How to gain root for reads and edits: none (log in as root) or sudo. Default: none.',
  },
  jump: {
    type: 'string',
    pattern: '^[^\\s]+$',
    invalid: { code: 'bad-jump', expected: 'an inventory host, user@host:port, or none' },
    description: 'Jump host (ProxyJump): the name of another inventory host, or [user@]host[:port]; none cancels an inherited jump.',
  },
  bind_address: {
    type: 'string',
    pattern: '^[0-9A-Fa-f.:]+$',
    invalid: { code: 'bad-bind-address', expected: 'an IP address of this machine' },
    description: 'Local address to connect from (OpenSSH\'s BindAddress), e.g. to reach a host from an address it has not banned.',
  },
  ssh_config: {
    type: 'string',
    description: "The runner user's ssh_config to honour as `ssh HOST` would (Host/Match blocks, Include): HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile, StrictHostKeyChecking, algorithms, ConnectTimeout, BindAddress, ServerAliveInterval, where the inventory sets nothing. Default: ~/.ssh/config; none to ignore it.",
  },
  connect_timeout: { type: 'duration', description: 'Time allowed to connect and authenticate, e.g. 10s, 1m30s. Default: 10s.' },
  algorithms: {
    type: 'object',
    title: 'algorithms',
    description: 'Per-host algorithm overrides (a legacy bridge, like a Host block in ssh_config). Each list replaces the one from a lower level.',
    properties: {
      kex: algorithmList('Key exchange algorithms'),
      cipher: algorithmList('Ciphers'),
      hostkey: algorithmList('Server host key algorithms'),
      serverHostKey: algorithmList('Server host key algorithms (ssh2\'s name for hostkey; use one of the two)'),
      hmac: algorithmList('MAC algorithms'),
    },
  },
  password_env: envName('login password'),
  passphrase_env: envName('passphrase of identity_file'),
  become_password_env: envName('sudo password'),
};

const secrets = {
  password: secret('password'),
  passphrase: secret('passphrase'),
  become_password: secret('become_password'),
};

export const defaultsSpec: ObjectSpec = {
  type: 'object',
  title: 'defaults',
  description: 'Connection settings for every host; a group overrides them, a host overrides both.',
  properties: connectionProperties,
  forbidden: secrets,
  misplaced: {
    address: 'address belongs to one host: set it under hosts:',
    vars: 'put variables for every host under the top-level vars:',
    hosts: 'list hosts under the top-level hosts:',
  },
  nullable: true,
};

export const hostSpec: ObjectSpec = {
  type: 'object',
  title: 'a host',
  description: 'One host (or a range of hosts). Connection settings here override its groups and defaults.',
  properties: {
    address: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.:%\\-]+$',
      invalid: { code: 'bad-address', expected: 'a host name or IP address' },
      description: 'Address to connect to. Default: the host name.',
    },
    ...connectionProperties,
    vars: { type: 'ref', name: 'vars', spec: varsSpec },
  },
  forbidden: secrets,
  misplaced: { groups: 'list the host under a group\'s hosts: instead', hosts: 'hosts: belongs to a group' },
  nullable: true,
};

export const groupSpec: ObjectSpec = {
  type: 'object',
  title: 'a group',
  description: 'A named set of hosts with shared connection settings and variables.',
  properties: {
    hosts: {
      type: 'array',
      single: true,
      description: 'Members: host names, globs (web-*) or ranges (web-[01:04]).',
      items: { type: 'string' },
    },
    vars: { type: 'ref', name: 'vars', spec: varsSpec },
    ...connectionProperties,
  },
  forbidden: secrets,
  misplaced: { address: 'address belongs to one host: set it under hosts:' },
  nullable: true,
};

function entriesByName(title: string, description: string, entry: Spec, keys: NonNullable<ObjectSpec['keys']>): ObjectSpec {
  return { type: 'object', title, description, properties: {}, additional: entry, keys, nullable: true };
}

/** The whole inventory file. */
export const inventorySpec: ObjectSpec = {
  type: 'object',
  title: 'the inventory',
  description: 'sshfix inventory: the hosts to work on and how to reach them.',
  properties: {
    defaults: { type: 'ref', name: 'defaults', spec: defaultsSpec },
    vars: { type: 'ref', name: 'vars', spec: varsSpec },
    hosts: entriesByName('hosts', 'Hosts by name; a name may hold ranges such as web-[01:20].example.com.', { type: 'ref', name: 'host', spec: hostSpec }, {
      pattern: HOST_NAME_PATTERN,
      invalid: { code: 'bad-host-name', expected: 'a host name (letters, digits, . _ - and [a:b] ranges)' },
    }),
    groups: entriesByName('groups', 'Groups by name.', { type: 'ref', name: 'group', spec: groupSpec }, {
      pattern: GROUP_NAME_PATTERN,
      invalid: { code: 'bad-group-name', expected: 'a group name (letters, digits, . _ -)' },
    }),
  },
  forbidden: secrets,
};
