import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rerootIncludes } from '../../../src/services/sshd/candidate-tree.js';
import { connectionForCriteria, formatConnectionSpec, matchValidationSpecs } from '../../../src/config/sshd/connection-spec.js';
import { parseMatchCriteria } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';

describe('candidate trees', () => {
  it('points every Include into the temporary root, relative ones under /etc/ssh, keeping the rest of the line', () => {
    const text = 'Port 22\nInclude /etc/ssh/sshd_config.d/*.conf\n  include=extra/*.conf "/opt/a b.conf" # note\r\nIncludeX no\n';
    assert.equal(
      rerootIncludes(text, '/tmp/x'),
      'Port 22\nInclude /tmp/x/etc/ssh/sshd_config.d/*.conf\n  include=/tmp/x/etc/ssh/extra/*.conf "/tmp/x/opt/a b.conf" # note\r\nIncludeX no\n',
    );
  });

  it('leaves a file without Include byte-identical', () => {
    const text = 'Match User x\r\n\tPasswordAuthentication no';
    assert.equal(rerootIncludes(text, '/tmp/x'), text);
  });
});

describe('test connections for Match blocks', () => {
  const criteria = (text: string) => {
    const parsed = parseMatchCriteria(text);
    assert.ok('criteria' in parsed);
    return parsed.criteria;
  };

  it('makes up a connection that enters the block', () => {
    assert.equal(formatConnectionSpec(connectionForCriteria(criteria('Address 10.20.0.0/16')) ?? {}), 'user=root,host=sshfix-check.invalid,addr=10.20.0.1,laddr=192.0.2.253,lport=22');
    assert.equal(connectionForCriteria(criteria('User deploy Address 192.0.2.0/24'))?.user, 'deploy');
    assert.equal(connectionForCriteria(criteria('LocalPort 2222'))?.lport, 2222);
    assert.equal(connectionForCriteria(criteria('User !root,adm*'))?.user, 'admx');
  });

  it('gives up when it cannot (Group needs a real member)', () => {
    assert.equal(connectionForCriteria(criteria('Group sftponly')), undefined);
  });

  it('lists one spec per enterable block plus a neutral one, none without Match', () => {
    const snapshot = (text: string) => ({ files: new Map([['/etc/ssh/sshd_config', text]]), listedDirs: new Set<string>() });
    assert.deepEqual(matchValidationSpecs(buildSshdConfigTree(snapshot('Port 22\n')).tree), []);
    const specs = matchValidationSpecs(buildSshdConfigTree(snapshot('Port 22\nMatch Address 10.0.0.0/8\n  X11Forwarding no\nMatch Group g\n  X11Forwarding no\n')).tree);
    assert.deepEqual(specs, ['user=root,host=sshfix-check.invalid,addr=192.0.2.254,laddr=192.0.2.253,lport=22', 'user=root,host=sshfix-check.invalid,addr=10.0.0.1,laddr=192.0.2.253,lport=22']);
  });
});
