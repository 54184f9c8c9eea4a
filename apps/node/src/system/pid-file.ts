import fs from 'node:fs';

/** Another daemon already runs from this home: two would fight over one node's connection. */
export class AlreadyRunningError extends Error {
  constructor(readonly pid: number) {
    super(`canopy-node is already running from this home (pid ${pid})`);
    this.name = 'AlreadyRunningError';
  }
}

/** The pid recorded in the file if that process is alive, else null. */
export function runningPid(file: string): number | null {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/**
 * Claims the pid file for this process; a file left by a dead process is taken over. Returns the release
 * function, which removes the file only while it still names this process.
 */
export function acquirePidFile(file: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
        } catch {}
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = runningPid(file);
      if (pid !== null && pid !== process.pid) throw new AlreadyRunningError(pid);
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot claim ${file}`);
}
