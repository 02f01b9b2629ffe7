import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Remembers the raw sockets of the hub's receiving requests (WebSocket upgrades, SSE streams,
 * polls) so that a test can break them from the server side without a clean close, as a
 * network failure or a crashed proxy would.
 */
export function captureHubSockets(httpServer: Server, hubPath = '/hubs/status') {
  const sockets: Duplex[] = [];
  const counts = { upgrades: 0 };
  const isHub = (url: string | undefined) => url !== undefined && url.startsWith(hubPath) && !url.includes('/negotiate');
  httpServer.on('upgrade', (req, socket) => {
    if (!isHub(req.url)) return;
    counts.upgrades++;
    sockets.push(socket);
  });
  // Keep-alive sockets serve other requests later (the test's own fetches share the pool),
  // so a GET's socket is a target only while that GET is in flight.
  httpServer.on('request', (req, res) => {
    if (req.method !== 'GET' || !isHub(req.url)) return;
    const socket = req.socket;
    sockets.push(socket);
    res.once('close', () => {
      const index = sockets.indexOf(socket);
      if (index >= 0) sockets.splice(index, 1);
    });
  });
  return {
    /** Upgrade and GET sockets seen so far, oldest first. */
    sockets,
    /** WebSocket upgrades to the hub seen so far. */
    get upgrades() {
      return counts.upgrades;
    },
    /** Destroys every captured socket that is still open (no close frame, no FIN handshake). */
    dropAll(): number {
      let dropped = 0;
      for (const socket of sockets.splice(0)) {
        if (!socket.destroyed) {
          socket.destroy();
          dropped++;
        }
      }
      return dropped;
    },
  };
}
