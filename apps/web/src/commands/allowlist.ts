/**
 * The command lines dongle firmware accepts from the cloud, matched exactly (REMP.md §2, "Type 4 — CLI
 * command"). It is CLI_ALLOWLIST of @canopy/remp, which the web app does not import; the server refuses
 * anything else with VALIDATION_ERROR, so a line added there and not here is only missing from the menu.
 */
export const DONGLE_COMMANDS = [
  { line: 'help', description: 'The commands the dongle accepts.' },
  { line: 'remote status', description: 'Pairing, the remote peer, uptime.' },
  { line: 'remote stats', description: 'Frame counters, authentication failures, counters per CAN ID.' },
  { line: 'can cfg show', description: 'The configuration of the CAN controller.' },
  {
    line: 'discovery status',
    description: 'The discovery port, the requests answered, the last requesters.',
  },
  { line: 'time status', description: 'The clock and the uptime.' },
] as const;
