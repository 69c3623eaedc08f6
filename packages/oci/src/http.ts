import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { TransientError } from './retry.js';

/**
 * Plain node:http with keep-alive: request bodies are streamed with
 * backpressure (a layer never sits in memory), response bodies are small
 * (manifests, JSON) and read whole, up to a cap.
 */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type RequestBody = Uint8Array | { size: number; stream: AsyncIterable<Uint8Array> };

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  maxResponseBytes?: number;
  timeoutMs?: number;
  /** Streams a 2xx response body here instead of buffering it (a blob read that hashes as it goes); `body` is then empty. */
  onData?: (chunk: Buffer) => void;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} ${err.message}` : String(err.message ?? e);
}

export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const { url } = req;
  const mod = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...req.headers };
  const body = req.body;
  if (body instanceof Uint8Array) headers['Content-Length'] = String(body.length);
  else if (body) headers['Content-Length'] = String(body.size);
  else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') headers['Content-Length'] = '0';
  const max = req.maxResponseBytes ?? 16 << 20;
  const where = `${req.method} ${url.host}${url.pathname}`;

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      reject(e instanceof TransientError ? e : new TransientError(`${where}: ${describe(e)}`));
    };
    const r = mod.request(url, { method: req.method, headers, agent: url.protocol === 'https:' ? agents.https : agents.http });
    r.setTimeout(req.timeoutMs ?? 120_000, () => r.destroy(new Error('timed out')));
    r.on('error', fail);
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      // Only a success is streamed; an error or auth challenge body stays readable.
      const streamBody = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
      let size = 0;
      let tooBig = false;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) tooBig = true;
        else if (req.onData && streamBody) req.onData(c);
        else chunks.push(c);
      });
      res.on('aborted', () => fail(new TransientError(`${where}: response truncated`)));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        const expected = res.headers['content-length'];
        if (!res.complete || (expected !== undefined && req.method !== 'HEAD' && !tooBig && Number(expected) !== size)) {
          fail(new TransientError(`${where}: response truncated (${size} of ${expected ?? '?'} bytes)`));
          return;
        }
        if (tooBig) {
          settled = true;
          reject(new Error(`${where}: response larger than ${max} bytes`));
          return;
        }
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    if (!body) {
      r.end();
    } else if (body instanceof Uint8Array) {
      r.end(body);
    } else {
      (async () => {
        for await (const chunk of body.stream) {
          if (settled || r.destroyed) return;
          if (!r.write(chunk)) {
            await new Promise<void>((ok) => {
              const done = () => {
                r.off('drain', done);
                r.off('close', done);
                ok();
              };
              r.on('drain', done);
              r.on('close', done);
            });
          }
        }
        r.end();
      })().catch((e: unknown) => {
        // A source failure is not transient: it is the archive, not the network.
        if (!settled) {
          settled = true;
          r.destroy();
          reject(e);
        }
      });
    }
  });
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
