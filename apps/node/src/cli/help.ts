import { VERSION } from '../system';

export const MAIN_HELP = `canopy-node ${VERSION}: connects this machine to your Canopy cloud

Usage:
  canopy-node setup <KEY> [--cloud URL] [--name NAME]  register this machine with an enrollment key
  canopy-node connect [KEY]      set up if needed, then run in this terminal with logs on the console
  canopy-node daemon             run without a console (file logs only); what services start
  canopy-node mesh               run only the device mesh (pairing, My Devices), without the cloud
  canopy-node status             connection state, cloud, node id, last error
  canopy-node logs [-f] [-n N]   the newest log lines; -f follows them
  canopy-node pending            tasks waiting for your approval
  canopy-node approve <ID>       run a waiting task
  canopy-node reject <ID>        refuse a waiting task
  canopy-node install [--system]   run as a service: start at boot, restart after a crash
  canopy-node uninstall | start | stop | restart   manage that service
  canopy-node --version | --help
  canopy-node <command> --help   details of one command

Environment:
  CANOPY_NODE_HOME              config, credential and logs (default ~/.canopy-node)
  CANOPY_NODE_CREDENTIAL_STORE  where the agent token is kept: auto (default: the OS keychain when
                                one answers, else an encrypted file), keychain, or file
  CANOPY_MESH                   on/off: the device mesh (default: config.json mesh.enabled, on)

Exit codes: 0 ok, 1 failure, 2 usage or configuration error (or not set up).
`;

export const COMMAND_HELP: Record<string, string> = {
  setup: `Usage: canopy-node setup <KEY> [--cloud URL] [--name NAME]
       canopy-node setup - [--cloud URL] [--name NAME]

Registers this machine with your Canopy cloud. KEY is an enrollment key (cnp_…) made on the Nodes page;
it serves for any number of machines until you revoke it there. With "-" (or no KEY) the key is read from stdin, or asked for without echo on a
terminal, so it stays out of your shell history:
  echo "$KEY" | canopy-node setup -

The agent token the cloud returns is kept in the OS keychain, or in an encrypted file when there is none.

Options:
  --cloud URL    the cloud's address (default: the one in config.json, else http://localhost:8080)
  --name NAME    a name for this node (default: the host name)
`,
  connect: `Usage: canopy-node connect [KEY] [--cloud URL] [--name NAME]

Runs the node in this terminal with readable logs, until Ctrl-C. If this machine is not set up yet,
KEY is used to set it up first (see canopy-node setup --help); if it is, KEY is not needed.
`,
  daemon: `Usage: canopy-node daemon

Runs the node without console output: logs go to files in <home>/logs only. This is what a service
manager starts. Needs a machine set up with canopy-node setup.
`,
  mesh: `Usage: canopy-node mesh

Runs only the device mesh in this terminal, until Ctrl-C: the peer API on the LAN (HTTPS, mesh.port,
default 9848) and My Devices for you at http://127.0.0.1:<mesh.uiPort> (default 9849). Needs no cloud
and no setup; connect and daemon run the mesh too. See docs/mesh.md.
`,
  status: `Usage: canopy-node status

Shows whether the daemon runs, its connection state and since when, the cloud URL, the node id, the
last error and the reconnect count, read from the daemon's health endpoint (127.0.0.1:<healthPort>).
`,
  logs: `Usage: canopy-node logs [-f] [-n N] [--json]

Prints the last N lines (default 50) of the newest log files in <home>/logs.
  -f, --follow   keep printing new lines, across file rotation, until Ctrl-C
  -n, --lines N  how many lines to print first
  --json         print the stored JSON lines unchanged
`,
  pending: `Usage: canopy-node pending

Lists the tasks from the cloud that wait for your approval (tasks.policy in config.json decides which).
`,
  approve: `Usage: canopy-node approve <ID>

Approves a waiting task (see canopy-node pending); the running daemon runs it and reports the result.
`,
  reject: `Usage: canopy-node reject <ID>

Rejects a waiting task (see canopy-node pending); the cloud is told it was rejected.
`,
};

export const SERVICE_COMMANDS = ['install', 'uninstall', 'start', 'stop', 'restart'] as const;

const SERVICE_OPTIONS = `
Linux: a systemd user unit (~/.config/systemd/user/canopy-node.service); with --system (as root) a system
unit that runs as the account canopy-node (or --run-as USER), for servers. macOS: a LaunchAgent
(~/Library/LaunchAgents/dev.canopy.node.plist). Windows: the service CanopyNode.
`;

COMMAND_HELP.install = `Usage: canopy-node install [--system [--run-as USER]]

Installs canopy-node as a service that starts at boot (or login) and restarts after a crash, starts it,
and waits until it reports connected. Run canopy-node setup first. Installing again updates the service
(e.g. after node moved); the agent token stays in the keychain or its encrypted file, never in the service.
${SERVICE_OPTIONS}`;
COMMAND_HELP.uninstall = `Usage: canopy-node uninstall [--system]

Stops the service and removes its unit, plist or service entry. Your configuration, credential and logs
stay in the node's home folder.
${SERVICE_OPTIONS}`;
for (const command of ['start', 'stop', 'restart'] as const) {
  COMMAND_HELP[command] = `Usage: canopy-node ${command} [--system]

${command[0]?.toUpperCase()}${command.slice(1)}s the installed service.
${SERVICE_OPTIONS}`;
}
