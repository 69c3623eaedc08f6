import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { ReleaseError } from '@nixrel/core';
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
  /** Hands the response body over chunk by chunk instead of keeping it (a layer read to be hashed); no size cap then. */
  onBody?: (chunk: Buffer) => void;
  /** Abandon the request after this long without a byte either way (default 60 s). */
  idleTimeoutMs?: number;
  /** Abandon the request if it is not answered in full within this time (default 30 min). */
  deadlineMs?: number;
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
    const idle = req.idleTimeoutMs ?? 60_000;
    const deadline = req.deadlineMs ?? 30 * 60_000;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e instanceof TransientError ? e : new TransientError(`${where}: ${describe(e)}`));
    };
    const r = mod.request(url, { method: req.method, headers, agent: url.protocol === 'https:' ? agents.https : agents.http });
    const abandon = (why: string) => {
      fail(new TransientError(`${where}: ${why}`));
      r.destroy();
    };
    r.setTimeout(idle, () => abandon(`no data sent or received for ${idle / 1000} s (NIXREL_REGISTRY_IDLE_TIMEOUT)`));
    // The idle timeout never fires for a response trickled a byte at a time: the deadline does.
    const timer = setTimeout(() => abandon(`not answered in full within ${deadline / 1000} s (NIXREL_REGISTRY_DEADLINE)`), deadline);
    r.on('error', fail);
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const streamed = req.onBody !== undefined && (res.statusCode ?? 0) < 300;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (streamed) {
          req.onBody!(c);
          return;
        }
        chunks.push(c);
        if (size > max && !settled) {
          // Bodies read whole are manifests and JSON: one this large is not what was asked for.
          settled = true;
          clearTimeout(timer);
          r.destroy();
          reject(new ReleaseError('REGISTRY_ERROR', `${where}: response larger than ${max} bytes`));
        }
      });
      res.on('aborted', () => fail(new TransientError(`${where}: response truncated`)));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        const expected = res.headers['content-length'];
        if (!res.complete || (expected !== undefined && req.method !== 'HEAD' && Number(expected) !== size)) {
          fail(new TransientError(`${where}: response truncated (${size} of ${expected ?? '?'} bytes)`));
          return;
        }
        settled = true;
        clearTimeout(timer);
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
          clearTimeout(timer);
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
