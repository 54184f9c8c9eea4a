/** Replaced at build time by the bundler; 'dev' when running from source. */
declare const __CANOPY_VERSION__: string | undefined;
export const VERSION = typeof __CANOPY_VERSION__ === 'string' ? __CANOPY_VERSION__ : 'dev';
