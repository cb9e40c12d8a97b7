import { after, before } from 'node:test';
import { openPostgresStore } from '../../src/store/index.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import { storeConformance } from './conformance.ts';

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.stop();
});

storeConformance('postgres', async () => {
  const url = await server.createDatabase('conformance');
  return { open: (clock) => openPostgresStore({ url, clock }), cleanup: () => Promise.resolve() };
});
