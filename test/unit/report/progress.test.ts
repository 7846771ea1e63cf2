/** The progress views: plain lines at once, and the terminal views loaded when asked for. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseProgressMode, createProgress } from '../../../src/report/progress.js';

describe('progress', () => {
  it('plain: one line per event, as it happens', async () => {
    const lines: string[] = [];
    const view = await createProgress('plain', ['a', 'b'], 'Planning', (line) => lines.push(line), { planning: true });
    view.stage('a', 'connecting');
    view.done('a', 'changed', '2 change(s)');
    view.done('b', 'failed', 'config-invalid');
    await view.finish();
    assert.deepEqual(lines, ['a: connecting', 'a: would change (2 change(s))', 'b: failed (config-invalid)']);
  });

  it('interactive: the terminal views load on demand and finish once every host is done', async () => {
    for (const hosts of [['a', 'b'], Array.from({ length: 50 }, (_, i) => `host-${i}`)]) {
      const lines: string[] = [];
      const view = await createProgress('interactive', hosts, 'Planning', (line) => lines.push(line));
      for (const host of hosts) {
        view.stage(host, 'connecting');
        view.done(host, 'ok');
      }
      await view.finish();
      assert.deepEqual(lines, [], 'the terminal views draw through listr2, not the plain writer');
    }
  });

  it('interactive only on a terminal outside CI', () => {
    assert.equal(chooseProgressMode({}, true, true), 'interactive');
    assert.equal(chooseProgressMode({ CI: '1' }, true, true), 'plain');
    assert.equal(chooseProgressMode({}, false, true), 'plain');
  });
});
