// Makes the installable package of canopy-node: dist/canopy-node.tgz, served by canopy-cloud at
// /downloads/canopy-node.tgz so `npm install -g <cloud>/downloads/canopy-node.tgz` works without the
// public registry carrying canopy-node. Its dependencies are the npm packages the bundle leaves external.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));
const stage = path.join(here, 'dist', 'package');
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(path.join(stage, 'bin'), { recursive: true });
fs.mkdirSync(path.join(stage, 'dist'), { recursive: true });

fs.copyFileSync(path.join(here, 'dist', 'cli.js'), path.join(stage, 'dist', 'cli.js'));
fs.copyFileSync(path.join(here, 'bin', 'canopy-node.js'), path.join(stage, 'bin', 'canopy-node.js'));
fs.chmodSync(path.join(stage, 'bin', 'canopy-node.js'), 0o755);
const dependencies = Object.fromEntries(
  Object.entries(pkg.dependencies ?? {}).filter(([name]) => !name.startsWith('@canopy/')),
);
fs.writeFileSync(
  path.join(stage, 'package.json'),
  `${JSON.stringify(
    {
      name: 'canopy-node',
      version: pkg.version,
      description: pkg.description,
      type: 'module',
      bin: { 'canopy-node': './bin/canopy-node.js' },
      engines: { node: '>=20' },
      dependencies,
      optionalDependencies: pkg.optionalDependencies ?? {},
      license: 'UNLICENSED',
    },
    null,
    2,
  )}\n`,
);
fs.writeFileSync(
  path.join(stage, 'README.md'),
  '# canopy-node\n\nThe Canopy node daemon. `canopy-node --help` lists the commands; your Canopy dashboard (Nodes) shows the setup steps.\n',
);

const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', path.join(here, 'dist')], {
  cwd: stage,
  encoding: 'utf8',
  shell: process.platform === 'win32',
});
if (packed.status !== 0) {
  process.stderr.write(packed.stderr);
  process.exit(packed.status ?? 1);
}
const file = packed.stdout.trim().split('\n').pop();
fs.renameSync(path.join(here, 'dist', file), path.join(here, 'dist', 'canopy-node.tgz'));
fs.rmSync(stage, { recursive: true, force: true });
