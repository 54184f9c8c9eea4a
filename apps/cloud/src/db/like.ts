/** Escapes LIKE/ILIKE wildcards, so user text matches only itself. */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
