/**
 * A tiny HTTP proxy in front of the simulator that records every request/response pair as raw text.
 * The SDK deserializers forgive a lot (unknown elements, a missing wrapper, a bad enum all parse), so the
 * conformance test has to see the bytes the simulator sent, not what the SDK made of them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  seq: number;
  /** The SigV4 credential scope's service (rds, ec2, route53), or '' when unsigned. */
  service: string;
  method: string;
  /** Path and query, as sent. */
  url: string;
  requestBody: string;
  status: number;
  /** Response headers, names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  /** Runs `fn` and returns it with the exchanges recorded while it ran (the SDK's retries included). */
  during<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; exchanges: Exchange[] }>;
  close(): Promise<void>;
}

const readAll = (stream: NodeJS.ReadableStream): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

/** `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250106/eu-west-2/rds/aws4_request, …` → rds */
function signedService(authorization: string | undefined): string {
  return /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '')?.[1] ?? '';
}

export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  const exchanges: Exchange[] = [];
  let seq = 0;

  const server = http.createServer((req, res) => {
    void (async () => {
      const requestBody = await readAll(req);
      const upstream = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const out = http.request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
          resolve,
        );
        out.on('error', reject);
        out.end(requestBody);
      });
      const body = await readAll(upstream);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      exchanges.push({
        seq: ++seq,
        service: signedService(req.headers.authorization),
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        requestBody: requestBody.toString('utf8'),
        status: upstream.statusCode ?? 0,
        headers,
        body: body.toString('utf8'),
      });
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      res.end(body);
    })().catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`recording proxy: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    async during(fn) {
      const from = exchanges.length;
      try {
        const result = await fn();
        return { result, exchanges: exchanges.slice(from) };
      } catch (error) {
        return { error, exchanges: exchanges.slice(from) };
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
