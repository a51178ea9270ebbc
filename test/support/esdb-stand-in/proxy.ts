// The stand-in's front door: a TCP relay on the public port in front of the gRPC server, so a test can
// break the network the way it breaks in production — every connection cut at once (dropConnections),
// or connections that stay open while nothing gets through in either direction (silence).
import net from 'node:net';

export interface Relay {
  readonly port: number;
  /** Cuts every open connection; clients see the transport fail and reconnect. */
  dropConnections(): void;
  /** While on, bytes are held in both directions (new connections are accepted, then hear nothing). */
  silence(on: boolean): void;
  close(): Promise<void>;
}

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

export const startRelay = async (port: number, upstreamPort: () => number): Promise<Relay> => {
  const links = new Set<Link>();
  let silent = false;

  const flow = (link: Link) => {
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
  };
  const hold = (link: Link) => {
    link.client.unpipe(link.upstream);
    link.upstream.unpipe(link.client);
    link.client.pause();
    link.upstream.pause();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort(), '127.0.0.1');
    const link = { client, upstream };
    links.add(link);
    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (silent) hold(link);
    else flow(link);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  return {
    port: address.port,
    dropConnections() {
      for (const link of [...links]) {
        link.client.destroy();
        link.upstream.destroy();
      }
      links.clear();
    },
    silence(on) {
      if (on === silent) return;
      silent = on;
      for (const link of links) (on ? hold : flow)(link);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const link of [...links]) {
        link.client.destroy();
        link.upstream.destroy();
      }
      links.clear();
      await closed;
    },
  };
};
