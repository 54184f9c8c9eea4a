import {
  AdminDonglesQuery,
  AdminDonglesResponse,
  CanConfigRequest,
  CommandRequest,
  CommandResponse,
  Command as CommandSchema,
  CommandsResponse,
  DongleReport,
  type DongleReportResponse,
  DongleResponse,
  DongleResponseMessage,
  DonglesResponse,
  PairingModeRequest,
  type PairingModeResponse,
  PairingSubmitRequest,
  type PairingSubmitResponse,
  type ScanResponse,
} from '@canopy/protocol';
import express, { Router } from 'express';
import { z } from 'zod';
import { auditActor, requireSuperAdmin, requireUser, userOf } from '../http/session-middleware';
import { parse } from '../http/validate';
import type { DongleConsole } from './console';
import type { Pairing } from './pairing';
import type { DongleService } from './service';

const IdParam = z.object({ id: z.uuid({ message: 'must be a dongle id (UUID)' }) });
const CommandParams = IdParam.extend({ command_id: z.uuid({ message: 'must be a command id (UUID)' }) });

/**
 * The owner's side: GET /api/v1/dongles, GET /api/v1/dongles/:id, POST /api/v1/dongles/scan, pairing
 * (POST …/:id/pairing-mode, …/:id/pairing-submit) and POST …/:id/unpair.
 */
export function dongleRoutes(service: DongleService, pairing: Pairing, dongleConsole: DongleConsole) {
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

  router.post('/:id/pairing-mode', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    parse(PairingModeRequest, req.body);
    const body: PairingModeResponse = await pairing.start(userOf(req).id, id, auditActor(req));
    res.json(body);
  });

  router.post('/:id/pairing-submit', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const input = parse(PairingSubmitRequest, req.body);
    const body: PairingSubmitResponse = await pairing.submit(userOf(req).id, id, input, auditActor(req));
    res.json(body);
  });

  router.get('/:id/can-config', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json({ can_config: await dongleConsole.storedCanConfig(userOf(req), id) });
  });

  router.put('/:id/can-config', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const config = parse(CanConfigRequest, req.body);
    res.json(await dongleConsole.applyCanConfig(userOf(req), id, config, auditActor(req)));
  });

  router.post('/:id/commands', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    const input = parse(CommandRequest, req.body);
    res
      .status(202)
      .json(
        CommandResponse.parse(
          await dongleConsole.runCommand(userOf(req), id, input, auditActor(req), String(req.id)),
        ),
      );
  });

  router.get('/:id/commands', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json(CommandsResponse.parse({ commands: await dongleConsole.listCommands(userOf(req), id) }));
  });

  router.get('/:id/commands/:command_id', async (req, res) => {
    const { id, command_id } = parse(CommandParams, req.params);
    res.json(CommandSchema.parse(await dongleConsole.getCommand(userOf(req), id, command_id)));
  });

  router.post('/:id/unpair', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    await pairing.unpair(userOf(req).id, id, auditActor(req));
    res.status(204).end();
  });

  return router;
}

/**
 * The node's side (its session token; `agentAuth` checks it): POST /api/v1/agents/devices/report, and
 * POST /api/v1/agents/dongles/response — a polling node's answer to a dongle request it got in a poll.
 */
export function dongleNodeRoutes(
  service: DongleService,
  agentAuth: express.RequestHandler,
  agentOf: (req: express.Request) => { id: string; userId: string },
  bodyLimitBytes: number,
  answer: (agentId: string, message: DongleResponseMessage) => void,
) {
  const router = Router();
  router.post('/dongles/response', agentAuth, express.json({ limit: bodyLimitBytes }), (req, res) => {
    answer(agentOf(req).id, parse(DongleResponseMessage, req.body));
    res.status(204).end();
  });
  router.post('/devices/report', agentAuth, express.json({ limit: bodyLimitBytes }), async (req, res) => {
    const report = parse(DongleReport, req.body);
    const { fastScanUntil } = await service.report(agentOf(req), report, String(req.id));
    const body: DongleReportResponse = { accepted: report.dongles.length, fast_scan_until: fastScanUntil };
    res.json(body);
  });
  return router;
}

/**
 * /api/v1/admin/dongles (super_admin): every dongle, filtered by state or by device id / owner email; and
 * POST …/:id/force-unpair and POST …/:id/clear-hold, the two ways out of SECURITY_HOLD.
 */
export function adminDongleRoutes(service: DongleService, pairing: Pairing) {
  const router = Router();
  router.use('/dongles', requireSuperAdmin);
  router.get('/dongles', async (req, res) => {
    const query = parse(AdminDonglesQuery, req.query);
    res.json(AdminDonglesResponse.parse({ dongles: await service.adminList(query) }));
  });
  router.post('/dongles/:id/force-unpair', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    await pairing.unpair(userOf(req).id, id, auditActor(req), true);
    res.status(204).end();
  });
  // The manual reset flow: the hold ends and the dongle goes back to its owner (see Pairing.clearHold).
  router.post('/dongles/:id/clear-hold', async (req, res) => {
    const { id } = parse(IdParam, req.params);
    res.json(await pairing.clearHold(id, auditActor(req)));
  });
  return router;
}
