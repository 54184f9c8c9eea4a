import type { CanFrameEvent } from '@canopy/protocol';
import type { RelayFrame } from '@canopy/protocol/relay';

/** A relayed CAN frame as the console shows it (for ConsoleStreams.emitFrames). */
export function canFrameEvent(
  frame: RelayFrame,
  context: { dongleId: string; direction: 'rx' | 'tx'; groupId?: string; seq?: number },
): CanFrameEvent {
  return {
    ts: new Date(Number(frame.tsUs / 1000n)).toISOString(),
    direction: context.direction,
    dongle_id: context.dongleId,
    ...(context.groupId ? { group_id: context.groupId } : {}),
    id: `0x${frame.id.toString(16).toUpperCase()}`,
    is_extended: frame.extended,
    dlc: frame.data.length,
    data: Buffer.from(frame.data).toString('hex').toUpperCase(),
    ...(context.seq === undefined ? {} : { seq: context.seq }),
  };
}
