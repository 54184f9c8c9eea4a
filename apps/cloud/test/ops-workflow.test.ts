import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';

// The GitHub Actions workflow, checked here against GitHub's workflow schema (bundled in
// @action-validator/core: no download) and for what spec 002 §23.1 asks of it.
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const WORKFLOW = path.join(REPO, '.github/workflows/ci.yml');
const ACTIVATE = path.join(REPO, 'infra/deploy/activate.sh');
const text = fs.readFileSync(WORKFLOW, 'utf8');

/** The lines of one job (from `  name:` to the next job at the same indent). */
function job(name: string): string {
  const start = text.indexOf(`\n  ${name}:\n`);
  if (start < 0) return '';
  const rest = text.slice(start + 1);
  const next = rest.slice(1).search(/\n {2}[a-z-]+:\n/);
  return next < 0 ? rest : rest.slice(0, next + 1);
}

describe('.github/workflows/ci.yml', () => {
  it('is a valid workflow by GitHub’s schema', () => {
    const state = validateWorkflow(text);
    expect(state.actionType).toBe('workflow');
    expect(state.errors).toEqual([]);
  });

  it('the validator does catch mistakes (so the check above means something)', () => {
    const broken = [
      text.replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04'),
      text.replace('  pull_request:\n', '  pull_requests:\n'),
      text.replace('    steps:\n', '    stepz:\n'),
    ];
    for (const variant of broken) {
      expect(variant).not.toBe(text);
      expect(validateWorkflow(variant).errors.length).toBeGreaterThan(0);
    }
  });

  it('lints, tests on PostgreSQL 15 and Redis services, builds, and deploys from main only', () => {
    expect(job('lint')).toMatch(/npm run lint/);
    expect(job('lint')).not.toMatch(/postgres|deploy/);
    expect(job('lint')).toMatch(/npm run typecheck/);
    expect(job('test')).toMatch(/image: postgres:15/);
    expect(job('test')).toMatch(/image: redis:/);
    expect(job('test')).toMatch(/npm run test:all/);
    expect(job('test')).toMatch(/nginx/);
    expect(job('build')).toMatch(/npm run build/);
    const deploy = job('deploy');
    expect(deploy).toMatch(/needs: \[test, build\]/);
    expect(deploy).toMatch(/if: github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/);
    expect(deploy).toMatch(/rsync /);
    expect(deploy).toMatch(/sudo \/usr\/local\/sbin\/canopy-activate \$\{GITHUB_SHA\}/);
  });

  it('takes deployment credentials from secrets only, and never echoes them', () => {
    const secrets = [...text.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]);
    expect(new Set(secrets)).toEqual(
      new Set(['DEPLOY_HOST', 'DEPLOY_USER', 'DEPLOY_PORT', 'DEPLOY_SSH_KEY', 'DEPLOY_KNOWN_HOSTS']),
    );
    // Every use is an expression assigned to an environment variable, never pasted into a command line.
    for (const line of text.split('\n').filter((l) => l.includes('secrets.'))) {
      expect(line).toMatch(/^\s+[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}$/);
    }
    expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY|DONGLE_TOKEN_MASTER_KEY|METRICS_TOKEN/);
    expect(text).not.toMatch(/set -x/);
  });

  it('the deploy script migrates (behind the backup) before it switches and restarts', () => {
    const script = fs.readFileSync(ACTIVATE, 'utf8');
    expect(spawnSync('bash', ['-n', ACTIVATE]).status).toBe(0);
    const migrate = script.indexOf('canopy-cloud.js" migrate');
    const swap = script.indexOf('mv -T "$root/current.new" "$root/current"');
    const restart = script.indexOf('systemctl restart canopy-cloud');
    expect(migrate).toBeGreaterThan(0);
    expect(swap).toBeGreaterThan(migrate);
    expect(restart).toBeGreaterThan(swap);
    expect(script).toMatch(/set -euo pipefail/);
    expect(script).toMatch(/EnvironmentFile=\/etc\/canopy-cloud\.env/);
  });
});
