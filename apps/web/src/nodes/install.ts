export type Platform = 'linux' | 'macos' | 'windows';

export const PLATFORMS: { id: Platform; label: string }[] = [
  { id: 'linux', label: 'Linux' },
  { id: 'macos', label: 'macOS' },
  { id: 'windows', label: 'Windows (PowerShell)' },
];

export const KEY_PLACEHOLDER = '<YOUR_KEY>';

/** The platform this browser runs on, to pick the install instructions; Linux when unsure. */
export function detectPlatform(userAgent: string): Platform {
  if (/windows/i.test(userAgent)) return 'windows';
  if (/macintosh|mac os x/i.test(userAgent)) return 'macos';
  return 'linux';
}

export interface InstallStep {
  title: string;
  command: string;
  /** Shown under the command; text in `backticks` is code. */
  note: string;
}

const NODE_REQUIRED: Record<Platform, string> = {
  linux: 'Needs Node.js 20 or newer: check with `node --version`.',
  macos: 'Needs Node.js 20 or newer: `brew install node` if you use Homebrew.',
  windows:
    'Needs Node.js 20 or newer: `winget install OpenJS.NodeJS.LTS` or the installer from nodejs.org. If PowerShell says running scripts is disabled, run `Set-ExecutionPolicy -Scope CurrentUser RemoteSigned` once.',
};

const SERVICE_NOTE: Record<Platform, string> = {
  linux:
    'Starts it now and with your user session, and restarts it after a crash (a systemd user service). To start it at boot before anyone logs in: `sudo loginctl enable-linger $USER`. On a server, `sudo canopy-node install --system` runs it as its own account. `canopy-node connect` runs it in a terminal instead.',
  macos:
    'Starts it now and at every login, and restarts it if it stops (a LaunchAgent). `canopy-node connect` runs it in a terminal instead.',
  windows:
    'Run it in PowerShell as Administrator: it installs the CanopyNode service, which starts at boot, restarts after a crash and runs as you (it asks your Windows password once). `canopy-node connect` runs it in a terminal instead.',
};

/**
 * The three steps of spec 000 §7 for one platform. The commands are the same everywhere: none of them
 * needs quoting in PowerShell. `key` is null until the user has created one on this page.
 */
export function installSteps(platform: Platform, origin: string, key: string | null): InstallStep[] {
  return [
    {
      title: 'Install',
      command: `npm install -g ${origin}/downloads/canopy-node.tgz`,
      note: `${NODE_REQUIRED[platform]} The package comes from your Canopy cloud; npm fetches its few dependencies from the npm registry.`,
    },
    {
      title: 'Set up',
      command: `canopy-node setup ${key ?? KEY_PLACEHOLDER} --cloud ${origin}`,
      note: key
        ? 'Your enrollment key is filled in. This registers the computer with your account.'
        : `Create an enrollment key above and it is filled in here instead of \`${KEY_PLACEHOLDER}\`.`,
    },
    {
      title: 'Start as a service',
      command: 'canopy-node install',
      note: SERVICE_NOTE[platform],
    },
  ];
}
