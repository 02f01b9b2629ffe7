/**
 * Peer: the raw `ws` broadcast ceiling. Connections join a room from `?room=`; a broadcast
 * serializes each event once (the same bytes statuscast's hub sends: `timeline.event` and
 * `status.latest` in one text frame), builds the WebSocket frame once
 * (`WebSocket.Sender.frame`, the pre-encoded frame ws's author recommends for broadcasts and
 * Socket.IO uses), and writes that one frame to every socket of the room. No auth, no resume,
 * no bounds, no metrics: what one Node process can push on this hardware.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { send, serveIpc } from '../lib/ipcChild.ts';
import { harnessHandlers } from '../server/harness.ts';
import type { PeerEvent } from './peerEvent.ts';
import { signalrStyleFrame } from './peerEvent.ts';

/** ws's frame builder (exported as `Sender`, not declared by @types/ws). */
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } }).Sender;
const rooms = new Map<string, Set<WebSocket>>();
const seqs = new Map<string, number>();
let connections = 0;

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://peer').searchParams.get('room') ?? 'default';
  let set = rooms.get(room);
  if (!set) rooms.set(room, (set = new Set()));
  set.add(ws);
  connections++;
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    connections--;
    set!.delete(ws);
  });
  ws.send(`{"type":1,"target":"hello","arguments":[${seqs.get(room) ?? 0}]}\u001e`);
});

http.listen(0, '127.0.0.1', () => {
  serveIpc(
    {
      ...harnessHandlers(),
      broadcast: (m) => {
        for (const event of m['events'] as PeerEvent[]) {
          seqs.set(event.room, event.seq);
          const sockets = rooms.get(event.room);
          if (!sockets) continue;
          const frame = Sender.frame(Buffer.from(signalrStyleFrame(event)), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
          for (const ws of sockets) {
            if (ws.readyState === WebSocket.OPEN) (ws as unknown as { _sender: { sendFrame(list: Buffer[]): void } })._sender.sendFrame(frame);
          }
        }
        return null;
      },
      counts: () => ({ connections }),
    },
    () => new Promise<void>((resolve) => {
      wss.close();
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  );
  send('ready', { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, pid: process.pid });
});
