/** Sides come and go as nodes report; the Groups pages ask this often, so a change shows within as long. */
export const REFRESH_MS = 3000;
