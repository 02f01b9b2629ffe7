/**
 * Peer: Socket.IO 4 (what a Node team would pick instead). Clients join the room named in
 * the handshake query; a broadcast emits one `status` event per append with the same two
 * objects statuscast sends (`timeline.event` and `status.latest` arguments). With
 * `BENCH_SOCKETIO_RECOVERY=1` connection-state recovery is on (the reconnect storm).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { send, serveIpc } from '../lib/ipcChild.ts';
import { harnessHandlers } from '../server/harness.ts';
import type { PeerEvent } from './peerEvent.ts';

const recovery = process.env['BENCH_SOCKETIO_RECOVERY'] === '1';
const seqs = new Map<string, number>();
const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 5 * 60_000, skipMiddlewares: true } } : {}),
});
io.on('connection', (socket) => {
  if (socket.recovered) return;
  const room = String(socket.handshake.query['room'] ?? 'default');
  void socket.join(room);
  socket.emit('hello', seqs.get(room) ?? 0);
});

http.listen(0, '127.0.0.1', () => {
  serveIpc(
    {
      ...harnessHandlers(),
      broadcast: (m) => {
        for (const event of m['events'] as PeerEvent[]) {
          seqs.set(event.room, event.seq);
          io.to(event.room).emit('status', JSON.parse(event.timelineEvent), JSON.parse(event.statusLatest));
        }
        return null;
      },
      counts: () => ({ connections: io.engine.clientsCount }),
    },
    () => new Promise<void>((resolve) => {
      io.disconnectSockets(true);
      void io.close(() => resolve());
    }),
  );
  send('ready', { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, pid: process.pid, recovery });
});
