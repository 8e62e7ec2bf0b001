/**
 * The simulator's HTTP server (node:http). One port answers the admin API (`/_sim/...`), the services' own
 * HTTP endpoints (Statuspage, PagerDuty) and every AWS API (sim/src/core/aws-http.ts). After each request the
 * state goes to its file if it changed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin-http';
import { handleAws } from './aws-http';
import type { SimEngine } from './engine';
import { readBody, sendJson } from './http';
import { withRequestId } from './request-id';

async function handle(engine: SimEngine, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = req.method ?? 'GET';
  let body: string;
  try {
    body = await readBody(req);
  } catch (err) {
    sendJson(res, 413, { error: (err as Error).message });
    return;
  }
  try {
    if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim') {
      handleAdmin(engine, method, url, body, res);
      return;
    }
    const endpoint = engine.httpEndpoints.find((e) => e.matches(url.pathname));
    if (endpoint) {
      endpoint.handle({ method, url, body, req }, res);
      return;
    }
    await withRequestId(() => handleAws(engine, method, url, body, req, res));
  } catch (err) {
    // A bug in the simulator itself: say so plainly, never pretend it is an AWS answer.
    console.error('[simulator] internal error', err);
    if (!res.headersSent) sendJson(res, 500, { error: `simulator internal error: ${(err as Error).message}` });
  } finally {
    engine.persistIfDirty();
  }
}

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/** Serves the engine on `host:port` (0: a free port); close() writes the state first. */
export async function listen(engine: SimEngine, host: string, port: number): Promise<ListeningServer> {
  const server = http.createServer((req, res) => {
    void handle(engine, req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        engine.persistIfDirty();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
