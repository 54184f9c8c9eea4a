import path from 'node:path';
import { Router } from 'express';
import { ApiError } from '../http/errors';
import { findUpward } from './find-upward';

/**
 * /downloads/canopy-node.tgz: the node package built by `npm run build` (apps/node/dist), so a machine can
 * install canopy-node from its own cloud: `npm install -g <cloud>/downloads/canopy-node.tgz`.
 */
export function downloadRoutes(start: string): Router {
  const router = Router();
  router.get('/downloads/canopy-node.tgz', (_req, res, next) => {
    const file = findUpward(start, path.join('node', 'dist', 'canopy-node.tgz'));
    if (!file) {
      return next(
        new ApiError(
          404,
          'NOT_FOUND',
          'The canopy-node package has not been built on this server: run npm run build',
        ),
      );
    }
    res.set('Cache-Control', 'no-cache').type('application/gzip').sendFile(file);
  });
  return router;
}
