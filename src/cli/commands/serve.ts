import type { Command } from '@commander-js/extra-typings';
import { createLogger, loadConfigFile, parseConfig, type LifelineConfig } from '../../core/index.ts';
import { intArg } from '../options.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Lifeline server (REST API, webhooks, /metrics, dashboard)')
    .option('-c, --config <file>', 'YAML configuration file (defaults apply to missing fields)')
    .option('--port <port>', 'override server.port', intArg('--port', 0))
    .option('--host <host>', 'override server.host')
    .action(async (opts) => {
      const config: LifelineConfig =
        opts.config === undefined ? parseConfig({}, '<defaults>') : await loadConfigFile(opts.config);
      if (opts.port !== undefined) config.server.port = opts.port;
      if (opts.host !== undefined) config.server.host = opts.host;
      const logger = createLogger({ level: config.log.level });
      // Loaded on use: keeps `lifeline --help` and other commands fast.
      const { startLifelineServer } = await import('../../api/bootstrap.ts');
      const running = await startLifelineServer(config, logger);
      const { server } = running;
      logger.info(
        { url: server.url, store: config.store.driver, objectStore: config.objectStore.driver },
        'lifeline server listening',
      );
      process.stdout.write(`lifeline serving on ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (sig: NodeJS.Signals): void => {
          logger.info({ signal: sig }, 'shutting down');
          void running.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
