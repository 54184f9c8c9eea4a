// Bundles an app's src/cli.ts (with the workspace packages it imports) into dist/cli.js; the npm
// dependencies listed in its package.json stay external and are installed beside it.
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
    external: [...external, 'pg-native'],
    define: { __CANOPY_VERSION__: JSON.stringify(pkg.version) },
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
