#!/usr/bin/env node
// The CLI is bundled into dist/ by `npm run build -w @canopy/dongle-sim`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('canopy-dongle-sim is not built yet: run `npm run build -w @canopy/dongle-sim`.\n');
  process.exit(1);
}
await import(entry.href);
