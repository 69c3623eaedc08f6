/**
 * Secrets must never reach a log line or an error message. Known secret values
 * are registered here (tokens read from the environment, passwords from auth
 * files) and replaced wherever they appear; JWT- and PEM-shaped strings are
 * masked even when nobody registered them.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g;
const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
const AUTH_HEADER = /\b(Authorization:\s*(?:Bearer|Basic))\s+[^\s"']+/gi;

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[REDACTED]');
  return out.replace(JWT, '[REDACTED-JWT]').replace(PEM_PRIVATE, '[REDACTED-PRIVATE-KEY]').replace(AUTH_HEADER, '$1 [REDACTED]');
}
