import fs from 'node:fs';
import path from 'node:path';

/**
 * Finds `relative` in `start` or one of its parents: the cloud runs from src/ (tests) or dist/ (bundle), and
 * the files it serves (the dashboard build, the node package) sit beside it in the repository.
 */
export function findUpward(start: string, relative: string): string | undefined {
  let dir = start;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, relative);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}
