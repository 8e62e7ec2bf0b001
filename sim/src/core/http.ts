/** Small node:http helpers shared by the simulator's HTTP handlers. */
import type http from 'node:http';
import { SimError } from './errors';
import { requestId } from './request-id';

const MAX_BODY = 10 * 1024 * 1024;

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new SimError('RequestEntityTooLarge', `Request body larger than ${MAX_BODY} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res: http.ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': requestId(), ...headers });
  res.end(body);
}

export const sendJson = (res: http.ServerResponse, status: number, value: unknown): void => send(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json');

export function parseJson(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  try {
    const v = JSON.parse(body) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SimError('BadRequest', 'The body must be a JSON object', 400);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
