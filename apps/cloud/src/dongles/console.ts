import type {
  CanConfig,
  CanConfigRequest,
  CanConfigResponse,
  Command,
  CommandRequest,
  CommandStatus,
} from '@canopy/protocol';
import { isAllowedCommand } from '@canopy/remp';
import { and, desc, eq } from 'drizzle-orm';
import { type AuditActor, writeAudit } from '../audit/writer';
import type { Db } from '../db/client';
import { canConfigs, commands, dongles, dongleTokens } from '../db/schema';
import { ApiError } from '../http/errors';
import type { Logger } from '../log';
import type { ConsoleEmitter } from '../streams/console-streams';
import { consoleStreamKey } from '../streams/keys';
import { SYSTEM_ACTOR } from './holds';
import type { DongleRpc } from './rpc';
import type { DongleService } from './service';
import type { DongleTokens } from './tokens';

/** Opens a sealed dongle token (src/keys Keyring). */
export interface TokenOpener {
  open(
    record: { keyVersion: number; nonce: Buffer; ciphertext: Buffer },
    aad: { dongleId: string; userId: string; createdAt: Date },
  ): Buffer;
}

export type ConsoleDeps = {
  db: Db;
  log: Logger;
  now: () => Date;
  dongles: DongleService;
  rpc: DongleRpc;
  /** Opens a dongle's token for the node that carries a request (and counts it: SECURITY_HOLD 3b). */
  tokens: DongleTokens;
  /** The live console hears of every status change of a command (command_status). */
  consoleStreams?: Pick<ConsoleEmitter, 'notify'>;
};

type Actor = { id: string; role: string };

/**
 * What an owner does with a paired dongle (spec 002 §14, §16): apply a CAN configuration, run allowlisted
 * commands. The dongle's token is opened only to go to the node with one request.
 */
export class DongleConsole {
  constructor(private readonly deps: ConsoleDeps) {}

  async applyCanConfig(
    actor: Actor,
    dongleId: string,
    config: CanConfigRequest,
    audit: AuditActor,
  ): Promise<CanConfigResponse> {
    const { db, rpc, now } = this.deps;
    const { row, agentId, token } = await this.reach(actor, dongleId);
    const answer = await rpc.call(agentId, row.deviceId, { op: 'can_config', action: 'set', token, config });
    if (answer.auth_rejected) throw await this.tokenRejected(row, audit);
    const applied = answer.status === 'ok';
    const at = now();
    if (applied) {
      const values = { ...toColumns(answer.config), appliedBy: actor.id, appliedAt: at, updatedAt: at };
      await db
        .insert(canConfigs)
        .values({ dongleId: row.id, ...values })
        .onConflictDoUpdate({ target: canConfigs.dongleId, set: values });
    }
    const [stored] = await db.select().from(canConfigs).where(eq(canConfigs.dongleId, row.id)).limit(1);
    await writeAudit(db, audit, {
      action: 'dongle.can_config_applied',
      targetType: 'dongle',
      targetId: row.id,
      details: {
        device_id: row.deviceId,
        requested: config,
        dongle_status: answer.status,
        after: answer.config,
        before: stored && !applied ? fromColumns(stored) : undefined,
      },
    });
    return {
      dongle_id: row.id,
      applied,
      effective: answer.config,
      applied_at: applied ? at.toISOString() : (stored?.appliedAt.toISOString() ?? null),
      dongle_status: answer.status,
    };
  }

  /** The configuration the dongle last confirmed (its ACK), or null before the first apply. */
  async storedCanConfig(
    actor: Actor,
    dongleId: string,
  ): Promise<{ config: CanConfig; applied_at: string } | null> {
    await this.visibleOwned(actor, dongleId, false);
    const [stored] = await this.deps.db
      .select()
      .from(canConfigs)
      .where(eq(canConfigs.dongleId, dongleId))
      .limit(1);
    return stored ? { config: fromColumns(stored), applied_at: stored.appliedAt.toISOString() } : null;
  }

  /** Queues a command; it runs at once through the node, and its status moves queued → running → final. */
  async runCommand(
    actor: Actor,
    dongleId: string,
    input: CommandRequest,
    audit: AuditActor,
    requestId?: string,
  ) {
    const { db } = this.deps;
    const line = [input.command, ...input.args].join(' ').trim();
    if (!isAllowedCommand(line)) {
      throw new ApiError(400, 'VALIDATION_ERROR', `"${line.slice(0, 80)}" is not a command dongles accept`, {
        fields: [{ path: 'command', message: 'must be one of the allowlisted commands' }],
      });
    }
    const target = await this.reach(actor, dongleId);
    const [row] = await db
      .insert(commands)
      .values({
        dongleId: target.row.id,
        userId: actor.id,
        agentId: target.agentId,
        command: line,
        timeoutMs: input.timeout_ms,
      })
      .returning();
    if (!row) throw new Error('no command row');
    await writeAudit(db, audit, {
      action: 'dongle.command_sent',
      targetType: 'dongle',
      targetId: target.row.id,
      details: { device_id: target.row.deviceId, command_id: row.id, command: line },
    });
    this.announce({ id: row.id, dongleId: target.row.id, command: line, requestId }, row.status, {});
    void this.execute(row.id, target, line, input.timeout_ms, audit, requestId);
    return { command_id: row.id, status: row.status };
  }

  async getCommand(actor: Actor, dongleId: string, commandId: string): Promise<Command> {
    await this.visibleOwned(actor, dongleId, false);
    const [row] = await this.deps.db
      .select()
      .from(commands)
      .where(and(eq(commands.id, commandId), eq(commands.dongleId, dongleId)))
      .limit(1);
    if (!row) throw new ApiError(404, 'NOT_FOUND', 'Command not found');
    return toCommand(row);
  }

  async listCommands(actor: Actor, dongleId: string): Promise<Command[]> {
    await this.visibleOwned(actor, dongleId, false);
    const rows = await this.deps.db
      .select()
      .from(commands)
      .where(eq(commands.dongleId, dongleId))
      .orderBy(desc(commands.createdAt))
      .limit(50);
    return rows.map(toCommand);
  }

  private async execute(
    commandId: string,
    target: { row: typeof dongles.$inferSelect; agentId: string; token: string },
    line: string,
    timeoutMs: number,
    audit: AuditActor,
    requestId?: string,
  ): Promise<void> {
    const { db, rpc, now, log } = this.deps;
    const which = { id: commandId, dongleId: target.row.id, command: line, requestId };
    const finish = async (fields: Partial<typeof commands.$inferInsert> & { status: CommandStatus }) => {
      await db
        .update(commands)
        .set({ finishedAt: now(), ...fields })
        .where(eq(commands.id, commandId));
      this.announce(which, fields.status, { exit_code: fields.exitCode, error: fields.error });
    };
    try {
      await db
        .update(commands)
        .set({ status: 'running', startedAt: now() })
        .where(eq(commands.id, commandId));
      this.announce(which, 'running', {});
      // The corr_id of the REMP exchange is the command's id, end to end.
      const answer = await rpc.call(
        target.agentId,
        target.row.deviceId,
        { op: 'command', corr_id: commandId, command: line, token: target.token, timeout_ms: timeoutMs },
        timeoutMs + 3000,
      );
      if (answer.auth_rejected) {
        await finish({ status: 'error', error: 'The dongle rejected its token' });
        await this.tokenRejected(target.row, audit);
        return;
      }
      const status = answer.status === 'ok' ? 'done' : answer.status === 'timeout' ? 'timeout' : 'error';
      await finish({
        status,
        exitCode: answer.exit_code,
        stdout: answer.stdout,
        stderr: answer.stderr,
        truncated: answer.truncated,
        error: answer.status === 'denied' ? 'The dongle refused the command' : null,
      });
    } catch (err) {
      const timeout = err instanceof ApiError && err.code === 'DONGLE_TIMEOUT';
      await finish({
        status: timeout ? 'timeout' : 'error',
        error: err instanceof Error ? err.message.slice(0, 500) : 'the command failed',
      }).catch((e) => log.error({ err: e, command_id: commandId }, 'could not record a command result'));
    }
  }

  private announce(
    command: { id: string; dongleId: string; command: string; requestId?: string },
    status: CommandStatus,
    outcome: { exit_code?: number | null; error?: string | null },
  ): void {
    this.deps.consoleStreams?.notify(consoleStreamKey('dongle', command.dongleId), 'command_status', {
      command_id: command.id,
      dongle_id: command.dongleId,
      command: command.command,
      status,
      ...outcome,
      at: this.deps.now().toISOString(),
      request_id: command.requestId,
    });
  }

  /** The owner (or a super_admin), the node that reaches the dongle, and its token opened for one request. */
  private async reach(actor: Actor, dongleId: string) {
    const owner = await this.visibleOwned(actor, dongleId);
    const { row, agentId } = await this.deps.dongles.route(owner, dongleId);
    const token = await this.deps.tokens.forAgent(row, agentId);
    return { row, agentId, token };
  }

  /**
   * The owner's id when the actor may act on the dongle: its owner, or a super_admin. Someone else's dongle
   * that the actor's nodes do not see is 404, like no dongle at all.
   */
  private async visibleOwned(actor: Actor, dongleId: string, requireActive = true): Promise<string> {
    const [row] = await this.deps.db.select().from(dongles).where(eq(dongles.id, dongleId)).limit(1);
    if (!row) throw new ApiError(404, 'DONGLE_NOT_FOUND', 'Dongle not found');
    const allowed =
      row.ownerUserId !== null && (row.ownerUserId === actor.id || actor.role === 'super_admin');
    if (!allowed) {
      await this.deps.dongles.get(actor.id, dongleId); // 404 unless the actor's nodes see it
      if (row.ownerUserId) {
        throw new ApiError(409, 'DONGLE_OWNED_BY_OTHER', 'This dongle belongs to another account');
      }
      throw new ApiError(409, 'CONFLICT', 'Pair this dongle first');
    }
    if (requireActive && row.ownershipState !== 'CLAIMED_ACTIVE') {
      throw new ApiError(409, 'CONFLICT', `The dongle is ${row.ownershipState}; it needs attention first`, {
        ownership_state: row.ownershipState,
      });
    }
    return row.ownerUserId as string;
  }

  /**
   * A relaying node says the dongle rejected the token the relay gave it at `givenAt`. Unless the dongle was
   * paired again since (its token is newer: the relay joins again with that one), it was reset: RESET_DETECTED,
   * as when a command's token is rejected, so that the owner is asked to pair it again.
   */
  async relayTokenRejected(dongleId: string, givenAt: Date): Promise<void> {
    const row = await this.deps.dongles.row(dongleId);
    if (row.ownershipState !== 'CLAIMED_ACTIVE') return;
    const [current] = await this.deps.db
      .select({ createdAt: dongleTokens.createdAt })
      .from(dongleTokens)
      .where(eq(dongleTokens.dongleId, dongleId))
      .limit(1);
    if (current && current.createdAt > givenAt) return;
    await this.tokenRejected(row, SYSTEM_ACTOR);
  }

  /** The dongle no longer knows its token (a factory reset): RESET_DETECTED (spec 002 §11.3 trigger 2). */
  private async tokenRejected(row: typeof dongles.$inferSelect, audit: AuditActor): Promise<ApiError> {
    const { db, now, log } = this.deps;
    await db
      .update(dongles)
      .set({ ownershipState: 'RESET_DETECTED', updatedAt: now() })
      .where(eq(dongles.id, row.id));
    await writeAudit(db, audit, {
      action: 'dongle.reset_detected',
      targetType: 'dongle',
      targetId: row.id,
      details: {
        device_id: row.deviceId,
        before: { ownership_state: row.ownershipState },
        after: { ownership_state: 'RESET_DETECTED' },
      },
    });
    log.warn({ dongle_id: row.id }, 'the dongle rejected its token: RESET_DETECTED');
    return new ApiError(
      409,
      'CONFLICT',
      'The dongle no longer accepts its token (was it reset?); pair it again',
      {
        ownership_state: 'RESET_DETECTED',
      },
    );
  }
}

function toColumns(c: CanConfig) {
  return {
    bitrate: c.bitrate,
    samplePointPermille: c.sample_point_permille,
    mode: c.mode,
    useRaw: c.use_raw,
    prescaler: c.prescaler,
    sjw: c.sjw,
    tseg1: c.tseg1,
    tseg2: c.tseg2,
    autoRetx: c.auto_retx,
    txPause: c.tx_pause,
    protocolExc: c.protocol_exc,
  };
}

function fromColumns(r: typeof canConfigs.$inferSelect): CanConfig {
  return {
    bitrate: r.bitrate,
    sample_point_permille: r.samplePointPermille,
    mode: r.mode,
    use_raw: r.useRaw,
    prescaler: r.prescaler,
    sjw: r.sjw,
    tseg1: r.tseg1,
    tseg2: r.tseg2,
    auto_retx: r.autoRetx,
    tx_pause: r.txPause,
    protocol_exc: r.protocolExc,
  };
}

function toCommand(r: typeof commands.$inferSelect): Command {
  return {
    command_id: r.id,
    dongle_id: r.dongleId,
    command: r.command,
    status: r.status,
    exit_code: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    truncated: r.truncated,
    error: r.error,
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
  };
}
