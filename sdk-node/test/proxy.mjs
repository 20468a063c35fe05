// A TCP proxy of ours between an SDK and `weir serve`, on a loopback ephemeral port, that can
// lose the server's answers: `muteAnswers()` stops passing bytes from the server to the
// client (requests still reach the server and are carried out), and `cut()` closes every
// connection and passes answers again on the new ones. So a test can make a request succeed
// on the server while its client never hears of it, and then force the client to retry.

import net from 'node:net';

/** Starts a proxy to `upstream` (http://host:port); resolves with { url, muteAnswers(),
 * cut(), close() }. */
export async function startProxy(upstream) {
  const { hostname, port } = new URL(upstream);
  const sockets = new Set();
  let muted = false;
  const server = net.createServer((client) => {
    const target = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(target);
    client.on('data', (chunk) => target.write(chunk));
    target.on('data', (chunk) => {
      if (!muted) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    for (const s of [client, target]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    muteAnswers() {
      muted = true;
    },
    cut() {
      muted = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
