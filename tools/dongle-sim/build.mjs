import { bundle } from '../../scripts/bundle.mjs';

await bundle(import.meta.url);
