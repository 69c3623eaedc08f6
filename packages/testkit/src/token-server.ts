import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importPKCS8, SignJWT } from 'jose';

/**
 * A loopback token server for distribution's token auth: it checks Basic
 * credentials and returns an RS256 JWT whose `x5c` header carries a
 * self-signed certificate; the registry trusts that certificate through
 * `rootcertbundle`. Every requested scope is granted to a valid user.
 */
export interface TokenServer {
  /** Token endpoint, e.g. http://127.0.0.1:PORT/token */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate file to put in the registry's `rootcertbundle`. */
  certPath: string;
  /** Requests seen, for assertions (scopes asked for). */
  requests: { scopes: string[]; user?: string }[];
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startTokenServer(opts: { dir: string; username: string; password: string; service?: string; issuer?: string }): Promise<TokenServer> {
  const keyPath = join(opts.dir, 'token-key.pem');
  const certPath = join(opts.dir, 'token-cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=nixrel-test-token']);
  const key = await importPKCS8(await readFile(keyPath, 'utf8'), 'RS256');
  const certDer = (await readFile(certPath, 'utf8')).replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const service = opts.service ?? 'nixrel-test-registry';
  const issuer = opts.issuer ?? 'nixrel-test-token-server';
  const requests: TokenServer['requests'] = [];

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/token') {
        res.writeHead(404).end();
        return;
      }
      const auth = req.headers.authorization ?? '';
      let user: string | undefined;
      if (auth.startsWith('Basic ')) {
        const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
        if (u !== opts.username || p.join(':') !== opts.password) {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
          return;
        }
        user = u;
      }
      const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      requests.push({ scopes, ...(user ? { user } : {}) });
      // Anonymous callers get a token with no access (the registry then answers 401).
      const access = user
        ? scopes.map((s) => {
            const [type, ...rest] = s.split(':');
            const actions = rest.pop() ?? '';
            return { type, name: rest.join(':'), actions: actions === '*' ? ['*'] : actions.split(',') };
          })
        : [];
      const token = await new SignJWT({ access })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5c: [certDer] })
        .setIssuer(issuer)
        .setSubject(user ?? '')
        .setAudience(url.searchParams.get('service') ?? service)
        .setIssuedAt()
        .setNotBefore(Math.floor(Date.now() / 1000) - 10)
        .setExpirationTime('5m')
        .setJti(randomUUID())
        .sign(key);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
