import { ReleaseError, toReleaseError } from './errors.js';

/**
 * Runs `work` on every item, at most `limit` at a time. The one failure rule
 * of the project: a failure does not stop the other items (a release carries
 * every image as far as it can, so a re-run redoes only what failed, and the
 * user sees every distinct failure at once); when all are done every failure
 * is thrown: a single one as it was, several as one error with the first
 * one's code and message that lists the others (`what` names the items).
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>, what = 'tasks'): Promise<void> {
  const failures: unknown[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (e) {
        failures.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const errors = failures.map((f) => toReleaseError(f));
    const [first, ...others] = errors as [ReleaseError, ...ReleaseError[]];
    throw new ReleaseError(first.code, `${errors.length} ${what} failed: ${first.message}`, {
      cause: failures[0],
      details: [...first.details, ...others.flatMap((e) => [e.message, ...e.details.map((d) => `  ${d}`)])],
    });
  }
}
