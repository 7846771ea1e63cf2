/**
 * Rolling batches (`--serial`) and the failure threshold (`--max-fail-percent`). Pure.
 *
 * `--serial 1,10%,100%`: the first batch has one host, the next 10% of the fleet, then the rest; the
 * last size repeats until every host has had its turn (as Ansible's serial list does). A
 * percentage is of the whole fleet, rounded down, at least one host.
 *
 * `--max-fail-percent N`: after each batch, stop when the failed (or unreachable) hosts are MORE
 * than N% of all hosts started so far, counted over every batch until then (not per batch, which
 * is the Ansible surprise of ansible#32255). N=0 stops at the first failure.
 */

export type SerialStep = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

/** Parses `1,10%,100%`; undefined with a message when malformed. */
export function parseSerial(text: string): { steps: SerialStep[] } | { error: string } {
  const steps: SerialStep[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(part);
    if (percent) {
      const value = Number(percent[1]);
      if (value <= 0 || value > 100) return { error: `"${part}": a percentage must be above 0% and at most 100%` };
      steps.push({ kind: 'percent', value });
    } else if (/^\d+$/.test(part) && Number(part) > 0) {
      steps.push({ kind: 'count', value: Number(part) });
    } else {
      return { error: `"${part}" is neither a host count (e.g. 1) nor a percentage (e.g. 10%)` };
    }
  }
  return steps.length > 0 ? { steps } : { error: 'empty --serial list' };
}

/** Batch sizes for `total` hosts; without steps, one batch of everything. */
export function batchSizes(total: number, steps: readonly SerialStep[] = []): number[] {
  if (total <= 0) return [];
  if (steps.length === 0) return [total];
  const sizeOf = (step: SerialStep): number =>
    step.kind === 'count' ? step.value : Math.max(1, Math.floor((total * step.value) / 100));
  const sizes: number[] = [];
  let left = total;
  let i = 0;
  while (left > 0) {
    const step = steps[Math.min(i, steps.length - 1)] as SerialStep;
    const size = Math.min(left, sizeOf(step));
    sizes.push(size);
    left -= size;
    i++;
  }
  return sizes;
}

/** Whether to stop before the next batch. */
export function exceedsFailPercent(failed: number, started: number, maxFailPercent: number | undefined): boolean {
  if (maxFailPercent === undefined || started === 0) return false;
  return (failed * 100) / started > maxFailPercent;
}
