import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSyslogConfig, syslogPaths } from '../../../src/lab/syslog-receiver.js';

describe('the lab\'s syslog configuration', () => {
  const paths = syslogPaths('/var/tmp/lab');
  const hosts = [
    { name: 'lab-01', socket: '/var/tmp/lab/hosts/lab-01/dev/log', authLog: '/var/tmp/lab/hosts/lab-01/var-log/upper/auth.log' },
    { name: 'lab-02', socket: '/var/tmp/lab/hosts/lab-02/dev/log', authLog: '/var/tmp/lab/hosts/lab-02/var-log/upper/auth.log' },
  ];

  it('gives each host an input stamped with its name and a ruleset writing only auth lines to its own auth.log', () => {
    const text = renderSyslogConfig(paths, hosts);
    assert.match(text, /^module\(load="imuxsock" SysSock\.Use="off"\)$/m, 'never the machine\'s own /dev/log');
    for (const [index, host] of hosts.entries()) {
      assert.ok(
        text.includes(`input(type="imuxsock" Socket="${host.socket}" HostName="${host.name}" Ruleset="host${index}" RateLimit.Interval="0")`),
        text,
      );
      assert.ok(
        text.includes(
          `ruleset(name="host${index}") {\n  if prifilt("auth,authpriv.*") then action(type="omfile" file="${host.authLog}" template="RSYSLOG_TraditionalFileFormat")\n}`,
        ),
        text,
      );
    }
  });

  it('escapes quotes and backslashes in paths', () => {
    const text = renderSyslogConfig(syslogPaths('/var/tmp/a"b'), []);
    assert.match(text, /^global\(workDirectory="\/var\/tmp\/a\\"b\/syslog"\)$/m);
  });
});
