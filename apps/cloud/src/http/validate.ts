import type { z } from 'zod';

/** Parses a request part with a protocol schema; a failure becomes 400 VALIDATION_ERROR naming the fields. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return schema.parse(value ?? {});
}
