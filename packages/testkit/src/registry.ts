import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTokenServer, type TokenServer } from './token-server.js';

/**
 * A real registry (Debian's `docker-registry`, distribution v2) on 127.0.0.1
 * with an ephemeral port and temporary storage; optionally behind htpasswd
 * basic auth or token auth served by a loopback token server.
 */
export interface RegistryHandle {
  /** host:port */
  url: string;
  auth: 'none' | 'htpasswd' | 'token';
  username?: string;
  password?: string;
  storageDir: string;
  token?: TokenServer;
  /** Repositories in the registry (GET /v2/_catalog, with credentials when needed). */
  catalog(): Promise<string[]>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(`http://${url}/v2/`);
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`docker-registry on ${url} did not become ready: ${log()}`);
}

export async function startRegistry(
  opts: { auth?: 'none' | 'htpasswd' | 'token'; username?: string; password?: string } = {},
): Promise<RegistryHandle> {
  const auth = opts.auth ?? 'none';
  const dir = await mkdtemp(join(tmpdir(), 'nixrel-registry-'));
  const storageDir = join(dir, 'storage');
  const username = auth === 'none' ? undefined : (opts.username ?? 'releaser');
  const password = auth === 'none' ? undefined : (opts.password ?? `pw-${Math.random().toString(36).slice(2)}-secret`);
  let token: TokenServer | undefined;
  let authYaml = '';
  if (auth === 'htpasswd') {
    const { stdout } = await run('htpasswd', ['-Bbn', username!, password!]);
    await writeFile(join(dir, 'htpasswd'), stdout);
    authYaml = `auth:\n  htpasswd:\n    realm: nixrel-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth === 'token') {
    token = await startTokenServer({ dir, username: username!, password: password! });
    authYaml = `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n    issuer: ${token.issuer}\n    rootcertbundle: ${token.certPath}\n`;
  }
  let child: ChildProcess | undefined;
  let url = '';
  let output = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    url = `127.0.0.1:${port}`;
    const config = [
      'version: 0.1',
      'log:\n  level: error\n  accesslog:\n    disabled: true',
      `storage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true`,
      `http:\n  addr: ${url}\n  secret: nixrel-test-${port}`,
      authYaml,
    ].join('\n');
    await writeFile(join(dir, 'config.yml'), config);
    output = '';
    child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    child.stderr!.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    try {
      await waitReady(url, child, () => output);
      break;
    } catch (e) {
      child.kill('SIGKILL');
      // Another process may have taken the port between probe and bind: try again.
      if (attempt === 2 || !/address already in use/.test(output)) throw e;
    }
  }
  const proc = child!;
  const basic = username ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;

  const catalog = async (): Promise<string[]> => {
    let headers: Record<string, string> = basic && auth === 'htpasswd' ? { Authorization: basic } : {};
    if (auth === 'token') {
      const res = await fetch(`${token!.realm}?service=${token!.service}&scope=registry:catalog:*`, { headers: { Authorization: basic! } });
      headers = { Authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
    }
    const res = await fetch(`http://${url}/v2/_catalog`, { headers });
    if (!res.ok) throw new Error(`catalog: ${res.status}`);
    return (((await res.json()) as { repositories?: string[] }).repositories ?? []).sort();
  };

  return {
    url,
    auth,
    ...(username ? { username, password } : {}),
    storageDir,
    ...(token ? { token } : {}),
    catalog,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      await token?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
