/**
 * A TUF repository served from a loopback node:http server, laid out as the
 * public-good mirror is (metadata at the root, targets under /targets), with
 * real signed metadata from @tufjs/repo-mock. Its dist files are imported
 * directly: the package index loads nock, which breaks sigstore-js's fetch agent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import handlerModule from '@tufjs/repo-mock/dist/handler.js';
import repoModule from '@tufjs/repo-mock/dist/repo.js';

const { tufHandlers } = handlerModule as typeof import('@tufjs/repo-mock/dist/handler.js');
const { initializeTUFRepo } = repoModule as typeof import('@tufjs/repo-mock/dist/repo.js');

type Response = { status: number; body: string | Buffer };

export interface TufMirror {
  url: string;
  /** The repository's initial root.json, as a client must be given it. */
  rootJson: string;
  /** Replaces what one path answers (e.g. a tampered target; 'hang': never), until `serve(path, null)`. */
  serve(path: string, response: Response | 'hang' | null): void;
  /** What each path was asked for, in order. */
  requests: string[];
  /** The signed metadata of this repository, by file name (to serve elsewhere). */
  metadata: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTufMirror(targets: Record<string, string>): Promise<TufMirror> {
  const repo = initializeTUFRepo(Object.entries(targets).map(([name, content]) => ({ name, content })));
  const routes = new Map<string, () => Response>();
  for (const h of tufHandlers(repo, { metadataPathPrefix: '' })) {
    routes.set(h.path, () => {
      const r = h.fn();
      return { status: r.statusCode, body: r.response };
    });
  }
  const overrides = new Map<string, Response | 'hang'>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://mirror').pathname;
    requests.push(path);
    const answer = overrides.get(path) ?? routes.get(path)?.() ?? { status: 404, body: '' };
    if (answer === 'hang') return;
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const metadata: Record<string, string> = {};
  for (const name of ['timestamp.json', 'snapshot.json', 'targets.json']) metadata[name] = String(routes.get(`/${name}`)!().body);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rootJson: JSON.stringify(repo.rootMeta.toJSON()),
    serve: (path, response) => (response ? overrides.set(path, response) : overrides.delete(path)),
    requests,
    metadata,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
