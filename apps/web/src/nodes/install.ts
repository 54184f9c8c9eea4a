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

/**
 * The three steps of spec 000 §7 for one platform. The commands are the same everywhere: none of them
 * needs quoting in PowerShell. `key` is null until the user has created one on this page.
 */
export function installSteps(platform: Platform, origin: string, key: string | null): InstallStep[] {
  return [
    {
      title: 'Install',
      command: `npm install -g ${origin}/downloads/canopy-node.tgz`,
      note: NODE_REQUIRED[platform],
    },
    {
      title: 'Set up',
      command: `canopy-node setup ${key ?? KEY_PLACEHOLDER} --cloud ${origin}`,
      note: key
        ? 'Your enrollment key is filled in. This registers the computer with your account.'
        : `Create an enrollment key above and it is filled in here instead of \`${KEY_PLACEHOLDER}\`.`,
    },
    {
      title: 'Run',
      command: 'canopy-node connect',
      note: 'Keeps it running in this terminal; `canopy-node install` to start it on boot comes with service mode.',
    },
  ];
}
