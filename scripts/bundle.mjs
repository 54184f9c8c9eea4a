// Bundles an app's src/cli.ts (with the workspace packages it imports) into dist/cli.js. The npm packages in
// its package.json `dependencies` (and optionalDependencies) stay external and are installed beside it; what
// it imports from devDependencies is bundled in (canopy-node does that with its pure-JS packages: one file
// loads in less memory than hundreds of modules, and the installed package needs fewer dependencies).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function bundle(appUrl) {
  const dir = fileURLToPath(new URL('.', appUrl));
  const pkg = JSON.parse(readFileSync(new URL('./package.json', appUrl), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).filter(
    (name) => !name.startsWith('@canopy/'),
  );
  await build({
    absWorkingDir: dir,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // Optional native add-ons that ws and pg try to load and do without.
    external: [...external, 'pg-native', 'bufferutil', 'utf-8-validate'],
    define: { __CANOPY_VERSION__: JSON.stringify(pkg.version) },
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
