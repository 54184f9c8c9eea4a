import {
  DongleReport,
  type DongleReportResponse,
  DongleResponse,
  DonglesResponse,
  type ScanResponse,
} from '@canopy/protocol';
import express, { Router } from 'express';
import { z } from 'zod';
import { requireUser, userOf } from '../http/session-middleware';
import { parse } from '../http/validate';
import type { DongleService } from './service';

const IdParam = z.object({ id: z.uuid({ message: 'must be a dongle id (UUID)' }) });

/** The owner's side: GET /api/v1/dongles, GET /api/v1/dongles/:id, POST /api/v1/dongles/scan. */
export function dongleRoutes(service: DongleService) {
  const router = Router();
  router.use(requireUser);

  router.get('/', async (req, res) => {
    res.json(DonglesResponse.parse({ dongles: await service.list(userOf(req).id) }));
  });

  router.post('/scan', async (req, res) => {
    const scan = await service.requestScan(userOf(req).id);
    const body: ScanResponse = { nodes: scan.nodes, fast_scan_until: scan.fastScanUntil };
    res.json(body);
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json(DongleResponse.parse({ dongle: await service.get(userOf(req).id, id) }));
  });

  return router;
}

/** POST /api/v1/agents/devices/report (the node's session token; `agentAuth` checks it). */
export function dongleReportRoute(
  service: DongleService,
  agentAuth: express.RequestHandler,
  agentOf: (req: express.Request) => { id: string; userId: string },
  bodyLimitBytes: number,
) {
  const router = Router();
  router.post('/devices/report', agentAuth, express.json({ limit: bodyLimitBytes }), async (req, res) => {
    const report = parse(DongleReport, req.body);
    const { fastScanUntil } = await service.report(agentOf(req), report);
    const body: DongleReportResponse = { accepted: report.dongles.length, fast_scan_until: fastScanUntil };
    res.json(body);
  });
  return router;
}
