import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { TaskSpec } from '@canopy/protocol';
import { TaskError, toTaskError } from './errors';
import type { ExecutorContext } from './executor';
import { resolveWorkspacePath } from './safety';

type ReadPayload = Extract<TaskSpec, { type: 'file_read' }>['payload'];
type WritePayload = Extract<TaskSpec, { type: 'file_write' }>['payload'];

export interface FileReadResult {
  path: string;
  size: number;
  /** base64 when the bytes are not valid UTF-8. */
  encoding: 'utf8' | 'base64';
  content: string;
}

export interface FileWriteResult {
  path: string;
  bytes: number;
}

// O_NOFOLLOW: the resolved path has no symlink left, so one appearing now is a swap; O_NONBLOCK: a FIFO
// must not hang the task (it is refused after fstat).
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function rulesOf(ctx: ExecutorContext) {
  return { workspaceRoot: ctx.workspaceRoot, userHome: ctx.userHome, nodeHome: ctx.nodeHome };
}

export async function readTaskFile(payload: ReadPayload, ctx: ExecutorContext): Promise<FileReadResult> {
  const real = await resolveWorkspacePath(payload.path, rulesOf(ctx));
  const max = ctx.limits.maxReadBytes;
  const handle = await open(real, READ_FLAGS).catch((err) => {
    throw toTaskError(err, payload.path);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new TaskError('NOT_A_FILE', `not a regular file: ${payload.path}`);
    if (info.size > max) throw tooLarge(payload.path, info.size, max);
    // Read up to max + 1 bytes, whatever the size said: the file may be growing.
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) break;
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > max) throw tooLarge(payload.path, length, max);
    const bytes = buffer.subarray(0, length);
    const utf8 = isUtf8(bytes);
    return {
      path: real,
      size: length,
      encoding: utf8 ? 'utf8' : 'base64',
      content: bytes.toString(utf8 ? 'utf8' : 'base64'),
    };
  } catch (err) {
    throw toTaskError(err, payload.path);
  } finally {
    await handle.close();
  }
}

/**
 * Writes atomically: a temporary file beside the target, flushed, then renamed over it, so a reader never
 * sees half a file and a crash leaves the old one. Missing parent folders inside the workspace are created.
 * An existing file keeps its permissions; a hard link to it elsewhere is not written through.
 */
export async function writeTaskFile(payload: WritePayload, ctx: ExecutorContext): Promise<FileWriteResult> {
  const data = decodeContent(payload.content, payload.encoding);
  const max = ctx.limits.maxWriteBytes;
  if (data.length > max) throw tooLarge(payload.path, data.length, max);
  const real = await resolveWorkspacePath(payload.path, rulesOf(ctx));
  try {
    const existing = await lstat(real).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (existing && !existing.isFile()) {
      throw new TaskError('NOT_A_FILE', `something other than a file is at ${payload.path}`);
    }
    const folder = path.dirname(real);
    await mkdir(folder, { recursive: true });
    const temp = path.join(folder, `.${path.basename(real)}.${randomBytes(6).toString('hex')}.canopy-tmp`);
    const handle = await open(temp, 'wx', existing ? existing.mode & 0o7777 : 0o666);
    try {
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, real);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    return { path: real, bytes: data.length };
  } catch (err) {
    throw toTaskError(err, payload.path);
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeContent(content: string, encoding: 'utf8' | 'base64'): Buffer {
  if (encoding === 'utf8') return Buffer.from(content, 'utf8');
  const compact = content.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    throw new TaskError('INVALID_PAYLOAD', 'the content is not valid base64');
  }
  return Buffer.from(compact, 'base64');
}

function tooLarge(subject: string, size: number, max: number): TaskError {
  return new TaskError('TOO_LARGE', `${subject} is ${size} bytes, more than the limit of ${max} bytes`);
}
