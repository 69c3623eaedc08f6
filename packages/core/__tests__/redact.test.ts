import { describe, expect, it } from 'vitest';
import { createLogger, redact, registerSecret } from '../src/index.js';

describe('redaction', () => {
  it('replaces registered secrets, JWTs, private keys and auth headers', () => {
    registerSecret('hunter2-password');
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4eXoiLCJhdWQiOiJzaWdzdG9yZSJ9.c2lnbmF0dXJl';
    const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----';
    const out = redact(`pw=hunter2-password token=${jwt} key=${pem} Authorization: Bearer abc.def`);
    expect(out).not.toContain('hunter2-password');
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('MIGHAgEA');
    expect(out).not.toContain('abc.def');
  });

  it('redacts what the logger writes', () => {
    registerSecret('s3cr3t-token-value');
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l) }).info('using s3cr3t-token-value');
    expect(lines).toEqual(['using [REDACTED]']);
  });
});
