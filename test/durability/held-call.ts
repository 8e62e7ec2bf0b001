/**
 * An AWS call held in flight, for the durability suite: a pass-through HTTP proxy in front of the simulator
 * that forwards every request at once except the first whose form body names `action`, which it holds
 * (received from the worker, not yet seen by the simulator, unanswered) until `release()` forwards it.
 *
 * With it "kill the worker while its ApplyPendingMaintenanceAction is in flight" is a precondition the test
 * waits for (`held`), not a moment guessed with a sleep: however slow the machine, the kill lands after the
 * call was sent and before any answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldCallProxy {
  /** Give this to the worker instead of the simulator's URL. */
  url: string;
  /** Resolves when the held call has arrived (sent by its caller, unanswered). */
  held: Promise<void>;
  /** Forwards the held call to the simulator (its caller may be gone by then, as AWS finishes a call whose client died). */
  release(): void;
  close(): Promise<void>;
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function holdCall(targetUrl: string, action: string): Promise<HeldCallProxy> {
  const target = new URL(targetUrl);
  let arrived!: () => void;
  const held = new Promise<void>((resolve) => (arrived = resolve));
  let released!: () => void;
  const releasedP = new Promise<void>((resolve) => (released = resolve));
  let holding = false;
  const pattern = new RegExp(`(^|&)Action=${action}(&|$)`);

  const forward = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => {
    const out = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.on('error', () => undefined);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // The caller may have been killed meanwhile: its half of the exchange is gone, the simulator's is not.
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
    });
    out.end(body);
  };

  const server = http.createServer((req, res) => {
    res.on('error', () => undefined);
    void readAll(req).then(
      (body) => {
        if (!holding && pattern.test(body.toString('utf8'))) {
          holding = true;
          arrived();
          void releasedP.then(() => forward(req, body, res));
          return;
        }
        forward(req, body, res);
      },
      () => undefined,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    release: () => released(),
    close: () =>
      new Promise<void>((resolve) => {
        released();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
