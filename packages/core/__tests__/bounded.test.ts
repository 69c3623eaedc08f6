import { describe, expect, test } from 'vitest';
import { forEachBounded, isReleaseError, ReleaseError } from '../src/index.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('forEachBounded', () => {
  test('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      done.push(n);
      running--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  test('a failure does not stop the other items; a single failure is thrown as it was, after all are done', async () => {
    const finished: number[] = [];
    const failure = new Error('two broke');
    const run = forEachBounded([1, 2, 3, 4, 5], 2, async (n) => {
      if (n === 2) throw failure;
      await tick();
      finished.push(n);
    });
    await expect(run).rejects.toBe(failure);
    expect(finished.sort()).toEqual([1, 3, 4, 5]);
  });

  test('several failures: one error with the first code and message, the others as details', async () => {
    const run = forEachBounded(['a', 'b'], 2, async (n) => {
      await tick();
      throw new ReleaseError(n === 'a' ? 'NIX_ERROR' : 'REGISTRY_ERROR', `${n} failed`, { details: [`${n} detail`] });
    }, 'images');
    const e = await run.catch((x: unknown) => x);
    expect(isReleaseError(e, 'NIX_ERROR')).toBe(true);
    expect((e as ReleaseError).message).toBe('2 images failed: a failed');
    expect((e as ReleaseError).details).toEqual(['a detail', 'b failed', '  b detail']);
  });

  test('no items: nothing runs', async () => {
    let calls = 0;
    await forEachBounded([], 4, async () => {
      calls++;
    });
    expect(calls).toBe(0);
  });
});
