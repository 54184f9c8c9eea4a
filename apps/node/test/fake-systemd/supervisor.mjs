// Runs one systemd unit the way systemd would for the settings canopy-node's unit uses: ExecStart= (with
// systemd's quoting, %% and $$), Environment=, Restart=on-failure, RestartSec=, StartLimitIntervalSec= and
// StartLimitBurst=. Writes the child's pid to <state>.pid; SIGTERM stops the child and the supervisor.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const [unitFile, statePath] = process.argv.slice(2);
const unit = fs.readFileSync(unitFile, 'utf8');
const setting = (key) =>
  unit
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));

/** systemd's word splitting of ExecStart= / Environment= values. */
function words(text) {
  const out = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    let word = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        word += text[i++];
      }
      i++;
    } else {
      while (i < text.length && text[i] !== ' ') word += text[i++];
    }
    out.push(word.replace(/%%/g, '%').replace(/\$\$/g, '$'));
  }
  return out;
}

const [command, ...args] = words(setting('ExecStart')[0]);
const env = { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER };
for (const line of setting('Environment')) {
  for (const pair of words(line)) {
    const eq = pair.indexOf('=');
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
}
const restart = setting('Restart')[0] ?? 'no';
const restartMs = Number(setting('RestartSec')[0] ?? '0.1') * 1000;
const limitMs = Number(setting('StartLimitIntervalSec')[0] ?? '10') * 1000;
const burst = Number(setting('StartLimitBurst')[0] ?? '5');
const starts = [];
let child = null;
let stopping = false;

function launch() {
  const now = Date.now();
  while (starts.length && now - starts[0] > limitMs) starts.shift();
  if (starts.length >= burst) {
    fs.writeFileSync(`${statePath}.failed`, 'start-limit-hit\n');
    process.exit(1);
  }
  starts.push(now);
  child = spawn(command, args, { env, stdio: 'ignore' });
  fs.writeFileSync(`${statePath}.pid`, String(child.pid));
  child.on('exit', (code, signal) => {
    child = null;
    if (stopping) process.exit(0);
    const failed = code !== 0 || signal !== null;
    if (restart === 'always' || (restart === 'on-failure' && failed)) setTimeout(launch, restartMs);
    else process.exit(0);
  });
}

process.on('SIGTERM', () => {
  stopping = true;
  if (child) child.kill('SIGTERM');
  else process.exit(0);
});
launch();
