import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The built simulator (`npm run build -w @canopy/dongle-sim`; npm test builds it).
export const SIM_BIN = fileURLToPath(
  new URL('../../../tools/dongle-sim/bin/canopy-dongle-sim.js', import.meta.url),
);

export type SimDongle = { deviceId: string; port: number };
export type RunningSim = {
  child: ChildProcess;
  dongles: SimDongle[];
  /** The control interface (127.0.0.1, inside the simulator's network namespace). */
  control: string;
  output: () => string;
  stop: () => Promise<number | null>;
};

/**
 * Starts canopy-dongle-sim and waits for its start-up lines (one per dongle, then `control: <url>`).
 * `prefix` runs it through another program, e.g. `ip netns exec <ns>`.
 */
export function startSim(args: string[], prefix: string[] = []): Promise<RunningSim> {
  const [command, ...rest] = prefix.length > 0 ? prefix : [process.execPath];
  const argv = prefix.length > 0 ? [...rest, process.execPath, SIM_BIN, ...args] : [SIM_BIN, ...args];
  const child = spawn(command as string, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the simulator did not start:\n${output}`)), 15_000);
    const onData = (d: Buffer) => {
      output += d;
      const control = /control: (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (!control) return;
      clearTimeout(timer);
      // "dongle <id> index <i> remp <host>:<port> fw <build> paired <yes|no>"
      const dongles = [...output.matchAll(/^dongle ([0-9a-f]{16}) index \d+ remp [\d.]+:(\d+)/gm)].map(
        (m) => ({
          deviceId: m[1] as string,
          port: Number(m[2]),
        }),
      );
      resolve({
        child,
        dongles,
        control,
        output: () => output,
        stop: () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d) => {
      output += d;
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator exited (${code}):\n${output}`));
    });
  });
}
