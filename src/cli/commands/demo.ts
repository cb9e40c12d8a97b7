import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { createLogger, render } from '../../core/index.ts';
import { intArg, outputOption } from '../options.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the demo: primary + standby sandboxes, moto, the "shop" app and lifeline serve; Ctrl-C stops all',
    )
    .option('--port <port>', 'port for the Lifeline server (0 = a free port)', intArg('--port', 0), 7420)
    .option('--nodes <n>', 'fake nodes per cluster', intArg('--nodes', 1), 3)
    .option('--dir <dir>', 'working directory for the demo (default: $LIFELINE_HOME/demo)')
    .option('--exit-when-ready', 'stop everything and exit 0 once the demo is up (a smoke check)')
    .addOption(outputOption())
    .action(async (opts) => {
      const dir = opts.dir ?? join(process.env['LIFELINE_HOME'] ?? join(homedir(), '.lifeline'), 'demo');
      const logger = createLogger({ level: process.env['LIFELINE_LOG_LEVEL'] ?? 'warn' });
      const started = Date.now();
      const { startDemo } = await import('../../sandbox/demo.ts');
      const demo = await startDemo({
        dir,
        port: opts.port,
        nodes: opts.nodes,
        logger,
        onStep: (line) => process.stderr.write(`• ${line}\n`),
      });
      const info = {
        seconds: Math.round((Date.now() - started) / 100) / 10,
        server: demo.server.url,
        apiToken: join(demo.stateDir, 'api-token'),
        primary: { server: demo.primary.server, kubeconfig: demo.primary.kubeconfigPath },
        standby: { server: demo.standby.server, kubeconfig: demo.standby.kubeconfigPath },
        s3: { endpoint: demo.moto.endpoint, bucket: demo.bucket },
        app: { namespace: 'shop', objects: demo.applied.length },
        logs: join(dir, '*/logs'),
      };
      if (opts.output === 'table') {
        process.stdout.write(
          [
            `Lifeline demo is up (${info.seconds} s)`,
            `  lifeline server   ${info.server}  (/healthz /readyz /metrics; /api/v1 with the token in ${info.apiToken})`,
            `  primary cluster   ${info.primary.server}  kubeconfig ${info.primary.kubeconfig}`,
            `  standby cluster   ${info.standby.server}  kubeconfig ${info.standby.kubeconfig}`,
            `  S3 (moto)         ${info.s3.endpoint}  bucket ${info.s3.bucket}`,
            `  demo app          namespace shop: ${info.app.objects} objects (frontend, api, worker, ConfigMaps, Secret, PDB, FeatureFlags)`,
            '',
            'Try:',
            `  KUBECONFIG=${info.primary.kubeconfig} kubectl get deploy,svc,featureflags -n shop`,
            `  curl ${info.server}/metrics`,
            `  curl -H "Authorization: Bearer $(cat ${info.apiToken})" ${info.server}/api/v1/runs`,
            '  npx lifeline doctor',
            '',
            opts.exitWhenReady === true
              ? '(--exit-when-ready: stopping now)'
              : 'Press Ctrl-C to stop everything.',
            '',
          ].join('\n'),
        );
      } else {
        process.stdout.write(`${render(opts.output, info)}\n`);
      }
      if (opts.exitWhenReady !== true) {
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => {
            resolve();
          });
          process.once('SIGTERM', () => {
            resolve();
          });
        });
        process.stderr.write('• stopping the demo\n');
      }
      await demo.stop();
    });
}
