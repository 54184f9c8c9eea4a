import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const state = process.env.FAKE_SYSTEMD_STATE;
if (!state) {
  process.stderr.write('FAKE_SYSTEMD_STATE is not set\n');
  process.exit(1);
}
fs.mkdirSync(state, { recursive: true });
const here = path.dirname(fileURLToPath(import.meta.url));
const unitDir = () =>
  path.join(process.env.XDG_CONFIG_HOME || path.join(process.env.HOME, '.config'), 'systemd', 'user');
const stateFile = path.join(state, 'units.json');
const load = () => (fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : {});
const save = (units) => fs.writeFileSync(stateFile, JSON.stringify(units));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function running(units, name) {
  const pid = units[name]?.supervisor;
  return Boolean(pid && alive(pid));
}

async function startUnit(units, name) {
  if (running(units, name)) return 0;
  const file = path.join(unitDir(), name);
  if (!fs.existsSync(file)) {
    process.stderr.write(`Failed to start ${name}: Unit ${name} not found.\n`);
    return 5;
  }
  const child = spawn(process.execPath, [path.join(here, 'supervisor.mjs'), file, path.join(state, name)], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, USER: process.env.USER ?? '' },
  });
  child.unref();
  units[name] = { ...units[name], supervisor: child.pid };
  return 0;
}

async function stopUnit(units, name) {
  const pid = units[name]?.supervisor;
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  }
  if (units[name]) units[name].supervisor = null;
  return 0;
}

export async function main(tool, argv) {
  fs.appendFileSync(path.join(state, 'calls.log'), `${JSON.stringify([tool, ...argv])}\n`);
  if (tool === 'loginctl') {
    if (argv[0] === 'show-user') process.stdout.write('no\n');
    return 0;
  }
  const args = argv.filter((a) => a !== '--user' && a !== '--now');
  const now = argv.includes('--now');
  if (!argv.includes('--user')) {
    process.stderr.write('this stand-in only knows systemctl --user\n');
    return 1;
  }
  if (process.env.FAKE_SYSTEMD_NO_BUS) {
    process.stderr.write('Failed to connect to bus: No medium found\n');
    return 1;
  }
  const [verb, name] = args;
  const units = load();
  let code = 0;
  switch (verb) {
    case 'show-environment':
      process.stdout.write(`HOME=${process.env.HOME}\n`);
      break;
    case 'daemon-reload':
    case 'reset-failed':
      break;
    case 'enable':
      if (!fs.existsSync(path.join(unitDir(), name))) {
        process.stderr.write(`Failed to enable unit: Unit file ${name} does not exist.\n`);
        return 1;
      }
      units[name] = { ...units[name], enabled: true };
      if (now) code = await startUnit(units, name);
      break;
    case 'disable':
      if (units[name]) units[name].enabled = false;
      if (now) code = await stopUnit(units, name);
      break;
    case 'start':
      code = await startUnit(units, name);
      break;
    case 'stop':
      code = await stopUnit(units, name);
      break;
    case 'restart':
      await stopUnit(units, name);
      code = await startUnit(units, name);
      break;
    case 'is-active':
      process.stdout.write(running(units, name) ? 'active\n' : 'inactive\n');
      code = running(units, name) ? 0 : 3;
      break;
    case 'is-enabled':
      process.stdout.write(units[name]?.enabled ? 'enabled\n' : 'disabled\n');
      code = units[name]?.enabled ? 0 : 1;
      break;
    default:
      process.stderr.write(`this stand-in does not know systemctl ${verb}\n`);
      code = 1;
  }
  save(units);
  return code;
}
