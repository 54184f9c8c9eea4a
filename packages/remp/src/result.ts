/** Why a datagram was not decoded. Decoders return these; they never throw on hostile bytes. */
export type RempErrorCode =
  | 'TRUNCATED'
  | 'BAD_MAGIC'
  | 'BAD_CRC'
  | 'UNKNOWN_PROTO'
  | 'UNKNOWN_TYPE'
  | 'LENGTH_OVERRUN'
  | 'FIELD_TOO_LARGE'
  | 'BAD_FIELD';

export interface RempError {
  code: RempErrorCode;
  message: string;
  details?: Record<string, number | string>;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: RempError };

export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const fail = <T>(
  code: RempErrorCode,
  message: string,
  details?: Record<string, number | string>,
): Decoded<T> => ({ ok: false, error: { code, message, ...(details ? { details } : {}) } });
