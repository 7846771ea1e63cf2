/** Recorded facts with a chosen sshd_config, and playbooks from text, for planning tests. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseFactOutput } from '../../../src/engine/facts-script.js';
import { interpretFacts, type HostFacts } from '../../../src/engine/facts.js';
import { loadPlaybook } from '../../../src/model/playbook.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';

/** The recorded Debian facts with the main sshd_config's text replaced. */
export function factsWithConfig(main: string, overrides: Partial<HostFacts> = {}): HostFacts {
  const facts = interpretFacts(parseFactOutput(readFileSync(`${REPO_ROOT}/test/fixtures/facts/debian-cloud.out`, 'utf8')), {
    name: 'web-01',
    address: '192.0.2.10',
    serverBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10',
  });
  const files = new Map(facts.files);
  files.set('/etc/ssh/sshd_config', { ...files.get('/etc/ssh/sshd_config')!, content: Buffer.from(main) });
  return { ...facts, files, ...overrides };
}

export const playsOf = (yaml: string) => {
  const loaded = loadPlaybook(yaml, 'test.yaml');
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return loaded.playbook.plays;
};

