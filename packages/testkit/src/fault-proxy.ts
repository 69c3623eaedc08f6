import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback reverse proxy in front of a registry that injects faults on a
 * seeded, deterministic share of requests: 500s, 429 with Retry-After (of
 * any length, a day included), connections reset in the middle of a request
 * body (an upload cut short), responses truncated after their headers,
 * responses trickled a byte at a time, and responses that stall after their
 * headers.
 */
export type Fault = '500' | '429' | 'reset' | 'truncate' | 'trickle' | 'stall';

export interface FaultProxyOptions {
  /** host:port of the registry behind the proxy. */
  upstream: string;
  /** Share of requests that get a fault, in [0, 1]. */
  rate?: number;
  seed?: number;
  faults?: Fault[];
  /** The Retry-After of injected 429s, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Pause between the bytes of a trickled response (default 100 ms). */
  trickleMs?: number;
  /** Stop injecting after this many faults. */
  maxFaults?: number;
  /** Only requests for which this returns true may be faulted. */
  eligible?: (method: string, path: string) => boolean;
}

export interface FaultProxy {
  url: string;
  stats: { requests: number; faults: Record<Fault, number> };
  stop(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, enough for reproducible fault schedules. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function reset(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const random = prng(opts.seed ?? 1);
  const rate = opts.rate ?? 0.2;
  const kinds = opts.faults ?? ['500', '429', 'reset', 'truncate'];
  const stats: FaultProxy['stats'] = { requests: 0, faults: { '500': 0, '429': 0, reset: 0, truncate: 0, trickle: 0, stall: 0 } };
  const [upHost, upPort] = opts.upstream.split(':');
  let self = '';

  const forward = (req: IncomingMessage, res: ServerResponse, fault?: Fault) => {
    const up = request(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        const headers = { ...upRes.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${opts.upstream}`, `//${self}`);
        res.writeHead(upRes.statusCode ?? 502, headers);
        if (fault === 'stall') {
          // Headers, then silence: only an idle timeout ends this.
          res.flushHeaders();
          upRes.resume();
          return;
        }
        if (fault === 'trickle') {
          // The whole body, one byte per tick: never idle, never done in time.
          res.flushHeaders();
          const chunks: Buffer[] = [];
          upRes.on('data', (c: Buffer) => chunks.push(c));
          upRes.on('end', () => {
            const body = Buffer.concat(chunks);
            let i = 0;
            const tick = setInterval(() => {
              if (i >= body.length || res.destroyed) {
                clearInterval(tick);
                res.end();
                return;
              }
              res.write(body.subarray(i, ++i));
            }, opts.trickleMs ?? 100);
            res.on('close', () => clearInterval(tick));
          });
          return;
        }
        if (fault !== 'truncate') {
          upRes.pipe(res);
          return;
        }
        // Send the headers and about half the body, then drop the connection.
        const total = Number(upRes.headers['content-length'] ?? 0);
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          const room = Math.floor(total / 2) - sent;
          if (room > 0) res.write(chunk.subarray(0, room));
          sent += Math.max(0, Math.min(room, chunk.length));
          if (sent >= Math.floor(total / 2)) {
            upRes.destroy();
            reset(res.socket!);
          }
        });
        upRes.on('end', () => reset(res.socket!));
        res.flushHeaders();
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    if (fault === 'reset') {
      const total = Number(req.headers['content-length'] ?? 0);
      let seen = 0;
      if (total === 0) {
        up.destroy();
        reset(req.socket);
        return;
      }
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen < total / 2) up.write(chunk);
        else {
          up.destroy();
          reset(req.socket);
        }
      });
      return;
    }
    req.pipe(up);
  };

  const server: Server = createServer((req, res) => {
    stats.requests++;
    const roll = random();
    const pick = random();
    const eligible = opts.eligible ? opts.eligible(req.method ?? 'GET', req.url ?? '/') : true;
    const injected = Object.values(stats.faults).reduce((a, b) => a + b, 0);
    const budget = opts.maxFaults === undefined || injected < opts.maxFaults;
    const fault = eligible && budget && roll < rate ? kinds[Math.floor(pick * kinds.length)] : undefined;
    if (fault) stats.faults[fault]++;
    if (fault === '500' || fault === '429') {
      req.resume();
      const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${fault}` }] });
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(body.length) };
      if (fault === '429') headers['Retry-After'] = String(opts.retryAfterSeconds ?? 1);
      res.writeHead(fault === '500' ? 500 : 429, headers).end(body);
      return;
    }
    forward(req, res, fault);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
