#!/usr/bin/env node
// Runs canopy-node's keychain test against a real Secret Service (gnome-keyring under its own D-Bus session).
// Without those programs it is skipped with a warning, except under CI where .ci/run installs them.
import { spawnSync } from 'node:child_process';

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (!have('dbus-run-session') || !have('gnome-keyring-daemon')) {
  const msg =
    'dbus-run-session and gnome-keyring-daemon are needed for the keychain test (apt-get install dbus gnome-keyring)';
  if (process.env.CI) {
    console.error(`CI=true but ${msg}`);
    process.exit(1);
  }
  console.warn(`\n!! Skipping the keychain test: ${msg}\n`);
  process.exit(0);
}
const result = spawnSync('npm', ['run', 'test:keychain', '-w', '@canopy/node'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
