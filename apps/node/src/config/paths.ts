import path from 'node:path';

/** Everything canopy-node keeps lives under one home folder (default ~/.canopy-node). */
export const homePaths = (home: string) => ({
  home,
  config: path.join(home, 'config.json'),
  credential: path.join(home, 'credential.enc'),
  logs: path.join(home, 'logs'),
  pid: path.join(home, 'canopy-node.pid'),
});
