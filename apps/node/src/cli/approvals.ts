/*
 * ADAPTER: the CLI's only door into the tasks module's approval files. The tasks module exports
 * listPending(home), approve(home, id) and reject(home, id) from tasks/approvals.ts (not tasks/runner.ts as
 * first planned); if they move, change this import only.
 */
import { ApprovalError, approve, listPending, reject } from '../tasks/approvals';
import type { CliContext } from './context';
import { CliError, EXIT } from './errors';

/** `canopy-node pending`: the tasks waiting for the owner's decision. */
export async function pending(ctx: CliContext): Promise<number> {
  const tasks = await listPending(ctx.env.home);
  if (tasks.length === 0) {
    ctx.stdout.write('No tasks are waiting for approval.\n');
    return EXIT.OK;
  }
  ctx.stdout.write(`${tasks.length} task${tasks.length > 1 ? 's' : ''} waiting for approval:\n\n`);
  for (const task of tasks) {
    ctx.stdout.write(`  ${task.id}  ${task.type}  received ${task.received_at}\n`);
    for (const [key, value] of Object.entries(task.summary)) {
      ctx.stdout.write(`      ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
    }
    if (task.decision)
      ctx.stdout.write(`      decided: ${task.decision} (the daemon has not picked it up yet)\n`);
  }
  ctx.stdout.write(
    '\nDecide with `canopy-node approve <ID>` or `canopy-node reject <ID>` (a unique prefix will do).\n',
  );
  return EXIT.OK;
}

/** `canopy-node approve|reject <ID>`. */
export async function decide(ctx: CliContext, decision: 'approve' | 'reject', id: string): Promise<number> {
  let task: Awaited<ReturnType<typeof approve>>;
  try {
    task = await (decision === 'approve' ? approve : reject)(ctx.env.home, id);
  } catch (err) {
    if (err instanceof ApprovalError) throw new CliError(`${capitalize(err.message)}.`, EXIT.FAILURE);
    throw err;
  }
  ctx.stdout.write(
    decision === 'approve'
      ? `Approved task ${task.id} (${task.type}): the running daemon starts it within a second and reports the result.\n`
      : `Rejected task ${task.id} (${task.type}): the cloud is told it was rejected.\n`,
  );
  return EXIT.OK;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
