#!/usr/bin/env node
// `npm start`: install what is missing, build what is stale, then run `canopy-cloud serve`
// (which applies pending migrations). Plain JavaScript: it must run before anything is installed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => process.stderr.write(`canopy: ${msg}\n`);

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  say(`Node.js 20 or newer is needed; this is ${process.version}.`);
  process.exit(1);
}

function run(cmd, args, what) {
  say(`${what}…`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    say(
      `${what} failed (exit ${result.status ?? result.signal}). Fix the error above and run npm start again.`,
    );
    process.exit(result.status ?? 1);
  }
  say(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const mtime = (p) => {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
};

/** Newest modification time of any file under the given paths. */
function newest(paths) {
  let max = 0;
  const walk = (p) => {
    let stat;
    try {
      stat = fs.statSync(p);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p))
        if (entry !== 'node_modules' && entry !== 'dist') walk(path.join(p, entry));
    } else if (stat.mtimeMs > max) max = stat.mtimeMs;
  };
  for (const p of paths) walk(path.join(root, p));
  return max;
}

// 1. Dependencies: install when missing or when the lock file changed since the last install.
// `npm install` rather than `npm ci`: npm 11 writes lock files that its own `ci` rejects as out of sync
// (optional platform packages of @biomejs/biome); `install` still follows the lock file's versions.
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (mtime(installed) === 0)
  run('npm', ['install', '--no-audit', '--no-fund'], 'installing dependencies (first run)');
else if (mtime(lock) > mtime(installed))
  run('npm', ['install', '--no-audit', '--no-fund'], 'updating dependencies');

// 2. Builds: the dashboard and the cloud bundle, each only when its sources are newer than its output.
const protocol = ['packages/protocol/src', 'packages/terminal/src', 'scripts/bundle.mjs'];
const webSources = newest([
  'apps/web/src',
  'apps/web/index.html',
  'apps/web/vite.config.ts',
  'apps/web/public',
  ...protocol,
]);
if (webSources > mtime(path.join(root, 'apps/web/dist/index.html'))) {
  run('npm', ['run', 'build', '-w', '@canopy/web'], 'building the dashboard');
}
const cloudSources = newest([
  'apps/cloud/src',
  'apps/cloud/build.mjs',
  'apps/cloud/package.json',
  ...protocol,
]);
if (cloudSources > mtime(path.join(root, 'apps/cloud/dist/cli.js'))) {
  run('npm', ['run', 'build', '-w', '@canopy/cloud'], 'building canopy-cloud');
}
// The node package the cloud serves at /downloads/canopy-node.tgz (the Nodes page's install step).
const nodeSources = newest([
  'apps/node/src',
  'apps/node/build.mjs',
  'apps/node/pack.mjs',
  'apps/node/package.json',
  'packages/remp/src',
  ...protocol,
]);
if (nodeSources > mtime(path.join(root, 'apps/node/dist/canopy-node.tgz'))) {
  run('npm', ['run', 'build', '-w', '@canopy/node'], 'building the canopy-node package');
}

// The dongle simulator (`npx canopy-dongle-sim`), for trying the Dongles page without hardware.
const simSources = newest(['tools/dongle-sim/src', 'tools/dongle-sim/build.mjs', 'packages/remp/src']);
if (simSources > mtime(path.join(root, 'tools/dongle-sim/dist/cli.js'))) {
  run('npm', ['run', 'build', '-w', '@canopy/dongle-sim'], 'building canopy-dongle-sim');
}

// 3. Serve. Signals go to the server so Ctrl-C shuts it down cleanly.
const server = spawn(process.execPath, [path.join(root, 'apps/cloud/bin/canopy-cloud.js'), 'serve'], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
