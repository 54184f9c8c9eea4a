import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from './config';

// The operator docs list every variable the config schema reads, and nothing it does not.
const doc = (name: string) => fs.readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
/** Variable names in the first column of the docs' tables: `| \`PORT\` | …` and `| \`A\`, \`B\` | …`. */
const documented = (text: string) =>
  new Set(
    text
      .split('\n')
      .filter((line) => /^\| `[A-Z]/.test(line))
      .flatMap((line) =>
        [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string),
      ),
  );
const SCRIPT_ONLY = ['BACKUP_RETENTION_DAYS', 'CANOPY_PORT', 'CANOPY_READY_TIMEOUT_S', 'CANOPY_ROOT'];
const MASTER_KEY = 'DONGLE_TOKEN_MASTER_KEY_V1';

describe('documented environment variables', () => {
  for (const file of ['operations.md', 'configuration.md']) {
    it(`docs/${file} lists every variable canopy-cloud reads`, () => {
      const names = documented(doc(file));
      const missing = [...ENV_VARIABLES, MASTER_KEY].filter((v) => !names.has(v));
      expect(missing).toEqual([]);
    });
  }

  it('docs/operations.md lists no variable that nothing reads', () => {
    const known = new Set([...ENV_VARIABLES, MASTER_KEY, ...SCRIPT_ONLY]);
    expect([...documented(doc('operations.md'))].filter((v) => !known.has(v))).toEqual([]);
  });

  it('the script-only variables are the ones the scripts read', () => {
    const backup = fs.readFileSync(
      new URL('../../../infra/backup/canopy-backup.sh', import.meta.url),
      'utf8',
    );
    const activate = fs.readFileSync(new URL('../../../infra/deploy/activate.sh', import.meta.url), 'utf8');
    expect(backup).toContain(`\${BACKUP_RETENTION_DAYS:-14}`);
    expect(backup).toContain(`\${BACKUP_DIR:-/var/backups/canopy}`);
    expect(activate).toContain(`\${CANOPY_PORT:-8080}`);
    expect(activate).toContain(`\${CANOPY_READY_TIMEOUT_S:-60}`);
    expect(activate).toContain(`\${CANOPY_ROOT:-/opt/canopy}`);
  });
});
