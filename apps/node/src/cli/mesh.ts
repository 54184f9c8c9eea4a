import { homePaths } from '../config';
import { createLogger } from '../log';
import { startMesh } from '../mesh';
import { type CliContext, openHome } from './context';
import { CliError, EXIT } from './errors';

/** `canopy-node mesh`: the device mesh alone, in the foreground, until SIGINT/SIGTERM. */
export async function runMeshOnly(ctx: CliContext): Promise<number> {
  const { config } = await openHome(ctx);
  if (!(ctx.env.mesh ?? config.mesh.enabled)) {
    throw new CliError(
      'the device mesh is turned off (CANOPY_MESH=off or mesh.enabled false in config.json).',
      EXIT.USAGE,
    );
  }
  const home = ctx.env.home;
  const logger = createLogger({
    dir: homePaths(home).logs,
    level: config.logLevel,
    mode: 'interactive',
    maxFiles: config.logMaxFiles,
    maxSizeMb: config.logMaxSizeMb,
    color: ctx.env.color,
  });
  const log = logger.log.child({ component: 'mesh' });
  let mesh: Awaited<ReturnType<typeof startMesh>>;
  try {
    mesh = await startMesh({ home, config, log });
  } catch (err) {
    logger.flush();
    logger.close();
    throw new CliError((err as Error).message, EXIT.FAILURE);
  }
  ctx.stdout.write(`My Devices: ${mesh.uiUrl}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await mesh.stop();
  log.info('device mesh stopped');
  logger.flush();
  logger.close();
  return EXIT.OK;
}
