/**
 * fast-check arbitraries for layered fail2ban jail configurations: the stock jail.conf plus
 * generated jail.d/*.conf, jail.local and jail.d/*.local files with `[DEFAULT]`, `[sshd]` and
 * `[dropbear]` sections, both separators, continuation lines, blank lines inside values, `;`
 * inline comments, `#` words inside values, `%(known/...)s` and `%(name)s` interpolation, CRLF,
 * and now and then a file fail2ban refuses (a duplicate key).
 */
import fc from 'fast-check';

const ENTRIES = ['127.0.0.1/8', '::1', '10.0.0.1', '192.0.2.0/24', '198.51.100.7', '2001:db8::/56', '203.0.113.9/255.255.255.0', 'office.example', '#', 'office', '10.1.2.3/16', '[2001:db8::1]'];
const JAILS = ['sshd', 'dropbear'];
const TIMES = ['10m', '1h', '600', '-1', '1d 2h', 'forever-ish', '%(bantime_base)s', '2w', '30s'];
const BOOLS = ['true', 'false', 'yes', 'no', '1', '0', 'on', 'off', 'TRUE', 'yess'];
const MAXRETRY = ['3', '5', '7', '3', '5', 'x5', '%(maxretry_base)s', '%(known/maxretry)s 0'];

export interface GeneratedConfig {
  /** Paths relative to the config dir -> text. */
  files: Map<string, string>;
}

const line = (key: string, value: string, sep: string, indent: string): string => `${indent}${key}${sep}${value}`;

const separator = fc.constantFrom(' = ', '=', ': ', ' =  ', ' :');

const ignoreipValue = fc
  .record({
    known: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    ref: fc.constantFrom('', '', '', '%(extra_ips)s'),
    entries: fc.array(fc.constantFrom(...ENTRIES), { minLength: 0, maxLength: 4 }),
    joiner: fc.constantFrom(' ', ', ', ','),
    continuation: fc.array(fc.array(fc.constantFrom(...ENTRIES), { minLength: 1, maxLength: 2 }), { maxLength: 2 }),
    blankInside: fc.boolean(),
    comment: fc.constantFrom('', ' ; office network', ';not-a-comment'),
  })
  .map((v) => {
    const head = [v.known ? '%(known/ignoreip)s' : '', v.ref, v.entries.join(v.joiner)].filter((s) => s !== '').join(' ');
    const cont = v.continuation.map((c, i) => `${v.blankInside && i === 0 ? '\n' : ''}\n${i % 2 ? '  \t' : '    '}${c.join(' ')}`).join('');
    return `${head}${v.comment}${cont}`;
  });

const option = fc.oneof(
  fc.tuple(fc.constant('ignoreip'), ignoreipValue),
  fc.tuple(fc.constant('maxretry'), fc.constantFrom(...MAXRETRY)),
  fc.tuple(fc.constant('findtime'), fc.constantFrom(...TIMES)),
  fc.tuple(fc.constant('bantime'), fc.constantFrom(...TIMES)),
  fc.tuple(fc.constant('enabled'), fc.constantFrom(...BOOLS)),
  fc.tuple(fc.constant('usedns'), fc.constantFrom('no', 'warn', 'yes')),
  fc.tuple(fc.constant('extra_ips'), fc.constantFrom('192.0.2.50', '198.51.100.0/24 ::1')),
  fc.tuple(fc.constant('maxretry_base'), fc.constantFrom('4', '9')),
  fc.tuple(fc.constant('bantime_base'), fc.constantFrom('1h', '%(findtime)s')),
);

const section = fc.record({
  name: fc.constantFrom('DEFAULT', ...JAILS),
  options: fc.uniqueArray(option, { selector: (o) => o[0], maxLength: 4 }),
  sep: separator,
  indentKeys: fc.boolean(),
  lead: fc.constantFrom('', '# comment\n', '; comment\n', '\n'),
});

const file = fc.record({
  sections: fc.uniqueArray(section, { selector: (s) => s.name, minLength: 1, maxLength: 3 }),
  crlf: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  duplicateKey: fc.integer({ min: 0, max: 99 }).map((n) => n === 0),
  finalNewline: fc.boolean(),
});

interface FileSpec {
  sections: { name: string; options: [string, string][]; sep: string; indentKeys: boolean; lead: string }[];
  crlf: boolean;
  duplicateKey: boolean;
  finalNewline: boolean;
}

function renderFile(f: FileSpec): string {
  const out: string[] = [];
  for (const s of f.sections) {
    out.push(`${s.lead}[${s.name}]`);
    for (const [k, v] of s.options) out.push(line(k, v, s.sep, s.indentKeys ? ' ' : ''));
    if (f.duplicateKey && s.options.length > 0) out.push(line(s.options[0]![0], 'dup', ' = ', ''));
  }
  let text = out.join('\n') + (f.finalNewline ? '\n' : '');
  if (f.crlf) text = text.replace(/\n/g, '\r\n');
  return text;
}

/** One layered configuration (relative paths). */
export const fail2banConfig: fc.Arbitrary<GeneratedConfig> = fc
  .record({
    debianDefaults: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
    confs: fc.array(file, { maxLength: 2 }),
    local: fc.option(file, { nil: undefined, freq: 3 }),
    locals: fc.array(file, { maxLength: 2 }),
    names: fc.uniqueArray(fc.constantFrom('a', 'b', 'sshd', 'zz', '10-x', 'Z'), { minLength: 4, maxLength: 4 }),
  })
  .map((c) => {
    const files = new Map<string, string>();
    if (c.debianDefaults) files.set('jail.d/defaults-debian.conf', '[sshd]\nenabled = true\n');
    c.confs.forEach((f, i) => files.set(`jail.d/${c.names[i]}.conf`, renderFile(f)));
    if (c.local) files.set('jail.local', renderFile(c.local));
    c.locals.forEach((f, i) => files.set(`jail.d/${c.names[i + 2]}.local`, renderFile(f)));
    return { files };
  });
