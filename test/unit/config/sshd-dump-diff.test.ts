import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diffSshdDumps } from '../../../src/config/sshd/dump-diff.js';
import { parseSshdDump } from '../../../src/config/sshd/defaults.js';
import { REPO_ROOT } from './fixtures.js';

/** `sshd -T` of OpenSSH 9.2 (Debian 12) for a config of one HostKey plus the line in the file's name. */
const dump = (name: string): Map<string, string[]> =>
  parseSshdDump(readFileSync(join(REPO_ROOT, 'test/fixtures/sshd-dumps', `${name}.txt`), 'utf8'));
const base = dump('base');
const keywordsOf = (changes: ReturnType<typeof diffSshdDumps>): string[] => changes.map((c) => c.keyword);

describe('diffSshdDumps on real sshd -T output', () => {
  it('finds nothing when only planned keywords changed', () => {
    assert.deepEqual(diffSshdDumps(base, dump('clientaliveinterval-60'), ['clientaliveinterval']), []);
    assert.deepEqual(diffSshdDumps(base, dump('pubkeyacceptedkeytypes'), ['pubkeyacceptedalgorithms']), []);
    assert.deepEqual(diffSshdDumps(base, base, []), []);
  });
  it('lets the listen addresses move with Port and AddressFamily, as sshd prints them', () => {
    assert.deepEqual(diffSshdDumps(base, dump('port-2222'), ['port']), []);
    assert.deepEqual(diffSshdDumps(base, dump('addressfamily-inet'), ['addressfamily']), []);
    assert.deepEqual(keywordsOf(diffSshdDumps(base, dump('port-2222'), ['clientaliveinterval'])), ['listenaddress', 'port']);
  });
  it('names an unplanned keyword with its values before and after', () => {
    assert.deepEqual(diffSshdDumps(base, dump('banner-injected'), ['banner']), [
      { keyword: 'permitemptypasswords', before: ['no'], after: ['yes'] },
    ]);
  });
  it('reports a keyword printed on one side only, and any change when nothing was planned', () => {
    const fewer = dump('addressfamily-inet');
    assert.deepEqual(diffSshdDumps(base, fewer, ['listenaddress']), [{ keyword: 'addressfamily', before: ['any'], after: ['inet'] }]);
    const without = new Map(base);
    without.delete('banner');
    assert.deepEqual(diffSshdDumps(base, without, []), [{ keyword: 'banner', before: ['none'], after: [] }]);
  });
  it('sees a Match-scoped change as no change of the global dump', () => {
    assert.deepEqual(diffSshdDumps(base, dump('match-scoped'), []), []);
  });
});
