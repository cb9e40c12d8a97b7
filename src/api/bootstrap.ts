import type { LifelineConfig } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { openObjectStore, type ObjectStore, type OpenObjectStoreOptions } from '../objectstore/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { createApp } from './app.ts';
import { bearerAuth, loadOrCreateApiToken } from './auth.ts';
import { runsRoutes } from './routes/runs.ts';
import { startServer, type RunningServer } from './server.ts';

/** A running Lifeline server with the durable state it opened. */
export interface LifelineServer {
  server: RunningServer;
  store: Store;
  objects: ObjectStore;
  /** Stops accepting requests, then closes the object store and the Store. */
  close(): Promise<void>;
}

/**
 * Opens the Store and the ObjectStore the configuration names and starts the HTTP server.
 * `/readyz` reports ready only while both answer.
 */
export async function startLifelineServer(
  config: LifelineConfig,
  logger: Logger,
  opts: { objectStore?: OpenObjectStoreOptions } = {},
): Promise<LifelineServer> {
  const store = await openStore(config.store);
  let objects: ObjectStore;
  try {
    objects = await openObjectStore(config.objectStore, opts.objectStore);
  } catch (err) {
    await store.close();
    throw err;
  }
  const { app } = createApp({
    logger,
    readiness: [
      {
        name: 'store',
        check: async () => {
          await store.kvGet('lifeline', 'readyz');
          return true;
        },
      },
      {
        name: 'objectstore',
        check: async () => {
          for await (const _ of objects.list('readyz/', { pageSize: 1 })) break;
          return true;
        },
      },
    ],
  });
  let server: RunningServer;
  try {
    const token = await loadOrCreateApiToken(config.server.apiTokenFile);
    app.use('/api/*', bearerAuth(token));
    app.route('/api/v1/runs', runsRoutes(store));
    server = await startServer(app, config.server.host, config.server.port);
  } catch (err) {
    await objects.close();
    await store.close();
    throw err;
  }
  return {
    server,
    store,
    objects,
    close: async () => {
      await server.close();
      await objects.close();
      await store.close();
    },
  };
}
