import { TaskType, type TaskType as TaskTypeName } from '@canopy/protocol';
import { z } from 'zod';

/**
 * Which tasks run as soon as they arrive and which wait for the owner (`canopy-node approve <id>`).
 *
 * - `approve_each`: every task waits.
 * - `allowlist`: a task runs directly when its type is listed in `allowlist.types`; a `shell` task also runs
 *   directly when the command's first word equals an entry of `allowlist.shellCommands`. Everything else waits.
 * - `trusted`: everything runs. The path rules of safety.ts still apply.
 *
 * The shell rule is a match on argv[0], not a sandbox: an allowed `git` still runs any `git` sub-command with
 * any arguments (`git -c core.pager=… log`). To keep the rule from being trivially bypassed, it only
 * applies to a simple command: anything with shell operators, substitution or redirection (`;`, `&`, `|`,
 * `` ` ``, `$`, `(`, `)`, `<`, `>`, a newline, and cmd.exe's `%` and `^`) waits for approval even when its
 * first word is allowed.
 */
export const ApprovalMode = z.enum(['approve_each', 'allowlist', 'trusted']);
export type ApprovalMode = z.infer<typeof ApprovalMode>;

/** Read-only tasks that reveal nothing outside the workspace run without asking by default. */
export const DEFAULT_ALLOWED_TYPES: readonly TaskTypeName[] = ['status_ping', 'system_info', 'file_read'];

export const TaskPolicy = z.object({
  mode: ApprovalMode.default('allowlist'),
  allowlist: z
    .object({
      types: z.array(TaskType).default([...DEFAULT_ALLOWED_TYPES]),
      shellCommands: z
        .array(z.string().regex(/^\S+$/, { message: 'must be one word (the command name)' }))
        .default([]),
    })
    .default({ types: [...DEFAULT_ALLOWED_TYPES], shellCommands: [] }),
});
export type TaskPolicy = z.infer<typeof TaskPolicy>;

/** `allowlist` with status_ping, system_info and file_read; shell and file_write wait for approval. */
export const DEFAULT_TASK_POLICY: TaskPolicy = TaskPolicy.parse({});

export type PolicyDecision = 'run' | 'ask';

const SHELL_SPECIALS = /[;&|`$()<>\r\n%^]/;

/** The command name of a simple shell command, or null when the command is not simple (see above). */
export function simpleCommandName(command: string): string | null {
  if (SHELL_SPECIALS.test(command)) return null;
  const first = command.trim().split(/\s+/)[0];
  return first ? first : null;
}

export function decide(policy: TaskPolicy, task: { type: TaskTypeName; payload: unknown }): PolicyDecision {
  switch (policy.mode) {
    case 'trusted':
      return 'run';
    case 'approve_each':
      return 'ask';
    case 'allowlist': {
      if (policy.allowlist.types.includes(task.type)) return 'run';
      if (task.type !== 'shell') return 'ask';
      const command = (task.payload as { command?: unknown } | null)?.command;
      if (typeof command !== 'string') return 'ask';
      const name = simpleCommandName(command);
      return name !== null && policy.allowlist.shellCommands.includes(name) ? 'run' : 'ask';
    }
  }
}
