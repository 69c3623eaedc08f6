import { type Logger, ReleaseError, silentLogger } from '@nixrel/core';

/**
 * How long a registry request may take and how often it is tried. Nothing a
 * server says is waited on without bound: a `Retry-After` is capped, all the
 * waiting between attempts of one request shares a budget, every attempt has
 * an idle timeout (no byte either way) and an overall deadline (a response
 * trickled a byte at a time ends there).
 */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest single wait a server may ask for with `Retry-After`. */
  maxServerWaitMs: number;
  /** All the waiting between the attempts of one request. */
  budgetMs: number;
  /** An attempt with no byte sent or received for this long is abandoned. */
  idleTimeoutMs: number;
  /** An attempt not answered in full within this time is abandoned. */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxServerWaitMs: 30_000,
  budgetMs: 60_000,
  idleTimeoutMs: 60_000,
  deadlineMs: 30 * 60_000,
};

/** Environment variables that override the defaults, in seconds (attempts: a count). */
export const RETRY_ENV: Record<string, keyof RetryPolicy> = {
  NIXREL_REGISTRY_ATTEMPTS: 'attempts',
  NIXREL_REGISTRY_RETRY_AFTER_MAX: 'maxServerWaitMs',
  NIXREL_REGISTRY_RETRY_BUDGET: 'budgetMs',
  NIXREL_REGISTRY_IDLE_TIMEOUT: 'idleTimeoutMs',
  NIXREL_REGISTRY_DEADLINE: 'deadlineMs',
};

/** Defaults, then the environment, then explicit options. */
export function retryPolicy(p?: Partial<RetryPolicy>, env: NodeJS.ProcessEnv = {}): RetryPolicy {
  const fromEnv: Partial<RetryPolicy> = {};
  for (const [name, key] of Object.entries(RETRY_ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < (key === 'attempts' ? 1 : 0) || (key === 'attempts' && !Number.isInteger(value))) {
      throw new ReleaseError('INVALID_INPUT', `${name}="${raw}" is not a valid ${key === 'attempts' ? 'number of attempts' : 'number of seconds'}`);
    }
    fromEnv[key] = key === 'attempts' ? value : value * 1000;
  }
  const given = Object.fromEntries(Object.entries(p ?? {}).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_RETRY, ...fromEnv, ...given };
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

function backoff(policy: RetryPolicy, attempt: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Half fixed, half jitter: spreads concurrent retries.
  return exp / 2 + Math.random() * (exp / 2);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` until it succeeds, throws a non-transient error, or the attempts or the waiting budget are spent. */
export async function withRetry<T>(policy: RetryPolicy, what: string, fn: (attempt: number) => Promise<T>, logger: Logger = silentLogger): Promise<T> {
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof TransientError)) throw e;
      if (attempt >= policy.attempts) {
        throw new ReleaseError(e.code, `${what} failed after ${attempt} attempts: ${e.message}`, { cause: e });
      }
      const asked = e.retryAfterMs;
      if (asked !== undefined && asked > policy.maxServerWaitMs) {
        throw new ReleaseError(
          e.code,
          `${what} failed: the server asked to wait ${seconds(asked)} (Retry-After), more than the ${seconds(policy.maxServerWaitMs)} allowed (NIXREL_REGISTRY_RETRY_AFTER_MAX); try again later`,
          { cause: e },
        );
      }
      const wait = Math.max(asked ?? 0, backoff(policy, attempt));
      if (waited + wait > policy.budgetMs) {
        throw new ReleaseError(
          e.code,
          `${what} failed after ${attempt} attempts and ${seconds(waited)} of waiting (retry budget ${seconds(policy.budgetMs)}, NIXREL_REGISTRY_RETRY_BUDGET): ${e.message}`,
          { cause: e },
        );
      }
      waited += wait;
      logger.warn(`${what}: ${e.message}; retrying in ${Math.round(wait)} ms (attempt ${attempt + 1}/${policy.attempts})`);
      await sleep(wait);
    }
  }
}
