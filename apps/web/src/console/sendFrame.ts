import type { GroupSideName, SendFramesRequest } from '@canopy/protocol';
import { SITUATIONS } from '../api/messages';

/** What the "Send a frame" form holds: the side whose bus gets the frame, the CAN id and the payload as typed. */
export type FrameDraft = { to: GroupSideName; id: string; data: string };

export type FrameProblems = Partial<Record<'id' | 'data', string>>;

const MAX_ID = 0x1fffffff;

/** The draft as a request, or what to fix first (in the words of messages.ts). */
export function frameRequest(
  draft: FrameDraft,
): { ok: true; request: SendFramesRequest } | { ok: false; problems: FrameProblems } {
  const problems: FrameProblems = {};
  const idText = draft.id.trim().replace(/^0x/i, '');
  const data = draft.data.replace(/[\s:.-]/g, '');
  let id = 0;
  if (!idText) problems.id = SITUATIONS.canIdMissing;
  else if (!/^[0-9a-f]{1,8}$/i.test(idText)) problems.id = SITUATIONS.canIdNotHex;
  else {
    id = Number.parseInt(idText, 16);
    if (id > MAX_ID) problems.id = SITUATIONS.canIdTooLarge;
  }
  if (!/^[0-9a-f]*$/i.test(data)) problems.data = SITUATIONS.canDataNotHex;
  else if (data.length % 2 !== 0) problems.data = SITUATIONS.canDataHalfByte;
  else if (data.length > 16) problems.data = SITUATIONS.canDataTooLong;
  if (problems.id || problems.data) return { ok: false, problems };
  return {
    ok: true,
    request: { to: draft.to, frames: [{ id, extended: id > 0x7ff, data: data.toUpperCase() }] },
  };
}
