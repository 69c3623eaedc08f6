import { type Logger, ReleaseError, silentLogger } from '@nixrel/core';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8000 };

export function retryPolicy(p?: Partial<RetryPolicy>): RetryPolicy {
  return { ...DEFAULT_RETRY, ...Object.fromEntries(Object.entries(p ?? {}).filter(([, v]) => v !== undefined)) };
}

/** A failure worth another attempt: 5xx, 429, a dropped connection, a truncated body. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly code: 'NETWORK_ERROR' | 'REGISTRY_ERROR' = 'NETWORK_ERROR',
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function delayFor(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Half fixed, half jitter: spreads concurrent retries without unbounded waits.
  const backoff = exp / 2 + Math.random() * (exp / 2);
  return retryAfterMs !== undefined ? Math.min(Math.max(retryAfterMs, backoff), Math.max(policy.maxDelayMs, retryAfterMs)) : backoff;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` until it succeeds, throws a non-transient error, or the budget is spent. */
export async function withRetry<T>(policy: RetryPolicy, what: string, fn: (attempt: number) => Promise<T>, logger: Logger = silentLogger): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof TransientError)) throw e;
      if (attempt >= policy.attempts) {
        throw new ReleaseError(e.code, `${what} failed after ${attempt} attempts: ${e.message}`, { cause: e });
      }
      const wait = delayFor(policy, attempt, e.retryAfterMs);
      logger.warn(`${what}: ${e.message}; retrying in ${Math.round(wait)} ms (attempt ${attempt + 1}/${policy.attempts})`);
      await sleep(wait);
    }
  }
}
