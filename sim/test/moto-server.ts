/**
 * moto's server (PyPI moto[server], installed into .tools/venv by `npm install`): an independent
 * implementation of the AWS APIs, started on a free port. The simulator's shape conformance tests compare
 * against it; the product's restore runs end to end against it (test/moto).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const MOTO_SERVER = path.resolve(__dirname, '../../.tools/venv/bin/moto_server');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before answering`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`moto_server did not answer on ${url} within ${timeoutMs} ms`);
}

/** Starts moto_server on a free local port and waits until it answers; stop it with `child.kill()`. */
export async function spawnMotoServer(stdio: StdioOptions = 'ignore'): Promise<{ url: string; child: ChildProcess }> {
  assert.ok(
    fs.existsSync(MOTO_SERVER),
    `moto_server not found at ${MOTO_SERVER}: run \`npm install\` (it installs moto[server] into .tools/venv), or by hand: .tools/venv/bin/pip install 'moto[server]==5.2.5'`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  await waitForHttp(`${url}/moto-api/`, child, 30_000);
  return { url, child };
}
