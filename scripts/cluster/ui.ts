/**
 * The Web UI a team runs: Temporal's standalone UI server (github.com/temporalio/ui-server, the program
 * inside the `temporalio/ui` image; its Go module embeds the built UI), built from the Go module proxy once
 * per machine and pointed at the cluster's frontend.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { run } from './daemons';
import { CLUSTER_DIR, NAMESPACE, UI_BUILD_DIR, UI_MODULE, UI_SERVER_VERSION, GO_TOOLCHAIN, say, type ClusterPorts } from './layout';
import { goEnv, requireGo } from './temporal';

export const UI_DIR = path.join(CLUSTER_DIR, 'ui');
export const UI_BIN = path.join(UI_BUILD_DIR, 'bin', 'server');

export function uiBuilt(): boolean {
  return fs.existsSync(UI_BIN);
}

export function buildUi(): void {
  const go = requireGo('The Temporal UI server');
  const tmp = `${UI_BUILD_DIR}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'bin'), { recursive: true });
  say(`building the Temporal UI server ${UI_SERVER_VERSION} with ${GO_TOOLCHAIN} (once per machine)`);
  run(go, ['install', `${UI_MODULE}/cmd/server@${UI_SERVER_VERSION}`], { env: goEnv(path.join(tmp, 'bin')), show: true });
  fs.rmSync(UI_BUILD_DIR, { recursive: true, force: true });
  fs.renameSync(tmp, UI_BUILD_DIR);
}

/** config/cluster.yaml for `server --root .cluster/ui --env cluster start`. */
export function writeUiConfig(ports: ClusterPorts): void {
  const dir = path.join(UI_DIR, 'config');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'cluster.yaml'),
    [
      `# Written by scripts/cluster for ${UI_MODULE}@${UI_SERVER_VERSION}`,
      `temporalGrpcAddress: 127.0.0.1:${ports.frontend}`,
      'host: 127.0.0.1',
      `port: ${ports.ui}`,
      'publicPath: ""',
      'enableUi: true',
      `defaultNamespace: ${NAMESPACE}`,
      'distribution: server',
      // No internet on the machines this runs on: no news or version checks from the browser.
      'disableNewsFetch: true',
      'notifyOnNewVersion: false',
      'refreshInterval: 0s',
      'cors:',
      '  cookieInsecure: true',
      '',
    ].join('\n'),
  );
}

export function uiArgs(): string[] {
  return ['--root', UI_DIR, '--config', 'config', '--env', 'cluster', 'start'];
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Serving = the page loads and the UI's API reaches the frontend (it lists the namespace). */
export async function uiServing(port: number): Promise<boolean> {
  const page = await get(`http://127.0.0.1:${port}/`);
  if (page.status !== 200) return false;
  const api = await get(`http://127.0.0.1:${port}/api/v1/namespaces/${NAMESPACE}`);
  return api.status === 200 && api.body.includes(`"${NAMESPACE}"`);
}
