import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchSizes, exceedsFailPercent, parseSerial, type SerialStep } from '../../../src/engine/batches.js';

const steps = (text: string): SerialStep[] => {
  const parsed = parseSerial(text);
  assert.ok('steps' in parsed, JSON.stringify(parsed));
  return parsed.steps;
};

describe('rolling batches', () => {
  it('a canary, then 10%, then the rest', () => {
    assert.deepEqual(batchSizes(50, steps('1,10%,100%')), [1, 5, 44]);
    assert.deepEqual(batchSizes(3, steps('1,10%,100%')), [1, 1, 1]);
  });

  it('repeats the last size until every host had its turn', () => {
    assert.deepEqual(batchSizes(7, steps('2')), [2, 2, 2, 1]);
    assert.deepEqual(batchSizes(10, steps('1,30%')), [1, 3, 3, 3]);
  });

  it('one batch of everything without --serial, none for no hosts', () => {
    assert.deepEqual(batchSizes(12), [12]);
    assert.deepEqual(batchSizes(0, steps('1')), []);
  });

  it('percentages round down but never to zero', () => {
    assert.deepEqual(batchSizes(5, steps('10%')), [1, 1, 1, 1, 1]);
  });

  it('rejects malformed lists', () => {
    assert.ok('error' in parseSerial('0'));
    assert.ok('error' in parseSerial('150%'));
    assert.ok('error' in parseSerial('1,,2'));
    assert.ok('error' in parseSerial('ten'));
  });
});

describe('max fail percent', () => {
  it('counts failures over every host started so far, strictly more than N%', () => {
    assert.equal(exceedsFailPercent(1, 1, 0), true);
    assert.equal(exceedsFailPercent(0, 5, 0), false);
    assert.equal(exceedsFailPercent(1, 10, 10), false, '10% is not more than 10%');
    assert.equal(exceedsFailPercent(2, 10, 10), true);
    assert.equal(exceedsFailPercent(3, 3, undefined), false, 'no threshold, never stops');
  });
});
