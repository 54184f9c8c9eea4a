#!/usr/bin/env node
// The CLI is bundled into dist/ by `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('canopy-node is not built yet: run `npm run build` in the Canopy folder.\n');
  process.exit(1);
}
await import(entry.href);
