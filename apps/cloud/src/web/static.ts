import fs from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler, Router } from 'express';
import { findUpward } from './find-upward';

/**
 * Serves the dashboard build (apps/web/dist) with an index.html fallback for client-side routes.
 * Hashed assets are cached for a year; index.html never, so a deploy is picked up at once.
 */
export function webRoutes(distDir: string | undefined): Router {
  const router = Router();
  const index = distDir ? path.join(distDir, 'index.html') : undefined;
  if (!distDir || !index || !fs.existsSync(index)) {
    router.get(/^\/(?!api\/|ws\/).*/, (_req, res) => {
      res
        .status(503)
        .type('html')
        .send(
          '<!doctype html><title>Canopy</title><p>The dashboard has not been built. Run <code>npm run build</code> (or <code>npm start</code>) in the Canopy folder.</p>',
        );
    });
    return router;
  }
  router.use(
    '/assets',
    express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '365d', fallthrough: false }),
  );
  router.use(express.static(distDir, { index: false, maxAge: 0 }));
  const sendIndex: RequestHandler = (_req, res) => {
    res.set('Cache-Control', 'no-cache').sendFile(index);
  };
  router.get(/^\/(?!api\/|ws\/).*/, sendIndex);
  return router;
}

/** apps/web/dist next to this package, whether running from src/ or dist/. */
export function findWebDist(start: string): string | undefined {
  const index = findUpward(start, path.join('web', 'dist', 'index.html'));
  return index ? path.dirname(index) : undefined;
}
