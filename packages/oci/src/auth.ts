import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Logger, ReleaseError, registerSecret } from '@nixrel/core';

/**
 * Where registry credentials come from, in the order tools look for them:
 * an explicit auth file, the containers auth file (REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json), the docker config (DOCKER_CONFIG,
 * ~/.docker/config.json, including credential helpers), and GITHUB_TOKEN for
 * ghcr.io. Every secret found is registered for redaction before use.
 */
export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for messages (never the secret). */
  source: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function normaliseKey(key: string): string {
  return key
    .replace(/^https?:\/\//, '')
    .replace(/\/v[12]\/?$/, '')
    .replace(/\/+$/, '');
}

async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as AuthFile;
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `registry auth file ${path} is not valid JSON`, { cause: e });
  }
}

function decodeAuth(auth: string, where: string): { username: string; password: string } {
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw new ReleaseError('INVALID_INPUT', `registry auth entry in ${where} is not base64 "user:password"`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function runHelper(helper: string, host: string, logger: Logger): Promise<{ username: string; password: string } | undefined> {
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 20_000 }, (err, stdout) => {
      if (err) {
        logger.warn(`credential helper docker-credential-${helper} gave nothing for ${host}`);
        resolve(undefined);
        return;
      }
      try {
        const out = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (out.Secret) registerSecret(out.Secret);
        resolve(out.Secret ? { username: out.Username ?? '', password: out.Secret } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.end(host);
  });
}

export function authFileCandidates(env: NodeJS.ProcessEnv, explicit?: string): string[] {
  const files: string[] = [];
  if (explicit) files.push(explicit);
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json'));
  return files;
}

/** Credentials for `host` (and optionally a repository, for per-namespace entries), or undefined. */
export async function findCredentials(
  host: string,
  repository: string | undefined,
  opts: { env?: NodeJS.ProcessEnv; authFile?: string; logger: Logger },
): Promise<Credentials | undefined> {
  const env = opts.env ?? process.env;
  const files = authFileCandidates(env, opts.authFile);
  if (opts.authFile) {
    const explicit = await readAuthFile(opts.authFile);
    if (!explicit) throw new ReleaseError('NOT_FOUND', `registry auth file not found: ${opts.authFile}`);
  }
  for (const file of files) {
    const cfg = await readAuthFile(file);
    if (!cfg) continue;
    // The most specific key wins: host/namespace/repo before host.
    const candidates = [host];
    if (repository) {
      const parts = repository.split('/');
      for (let i = parts.length; i > 0; i--) candidates.unshift(`${host}/${parts.slice(0, i).join('/')}`);
    }
    const auths = new Map(Object.entries(cfg.auths ?? {}).map(([k, v]) => [normaliseKey(k), v]));
    for (const key of candidates) {
      const entry = auths.get(key);
      if (!entry) continue;
      let creds: { username: string; password: string } | undefined;
      if (entry.auth) creds = decodeAuth(entry.auth, file);
      else if (entry.username && entry.password) creds = { username: entry.username, password: entry.password };
      if (entry.auth) registerSecret(entry.auth);
      if (entry.identitytoken) {
        registerSecret(entry.identitytoken);
        opts.logger.warn(`${file}: identity tokens for ${key} are not supported; using username/password if present`);
      }
      if (creds) {
        registerSecret(creds.password);
        return { ...creds, source: file };
      }
    }
    const helper = cfg.credHelpers?.[host] ?? cfg.credsStore;
    if (helper) {
      const creds = await runHelper(helper, host, opts.logger);
      if (creds) return { ...creds, source: `docker-credential-${helper}` };
    }
  }
  if (host === 'ghcr.io' && env.GITHUB_TOKEN) {
    registerSecret(env.GITHUB_TOKEN);
    return { username: env.GITHUB_ACTOR || 'token', password: env.GITHUB_TOKEN, source: 'GITHUB_TOKEN' };
  }
  return undefined;
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(value: string | undefined): Challenge | undefined {
  if (!value) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(value);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme, params };
}

export function basicAuth(creds: Credentials): string {
  const value = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  registerSecret(value);
  return `Basic ${value}`;
}
