import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP forwarder on 127.0.0.1 in front of the real apiserver, so a test can cut one client's path
 * (like a dead load balancer or a half-open connection) while other clients keep writing.
 */
export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and refuses new ones until `unblock()`. */
  block(): void;
  unblock(): void;
  /** Black-holes the bytes of the connections open now (they stay open, silent); new ones work. */
  freeze(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    const pair: Pair = { client, upstream, frozen: false };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (!pair.frozen) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!pair.frozen) client.write(d);
    });
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    block: () => {
      blocked = true;
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
    },
    unblock: () => {
      blocked = false;
    },
    freeze: () => {
      for (const p of pairs) p.frozen = true;
    },
    close: async () => {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
