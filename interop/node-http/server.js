// Node's own `http` module on the 'upgrade' event, speaking the black-box `echo`
// protocol, for the interop matrix. Two variants of the one line that matters:
//
//   node server.js PORT head      writes `head` (the bytes Node's parser read past
//                                 the request) back first, then pipes the socket:
//                                 what Node's documentation asks of an 'upgrade' handler
//   node server.js PORT no-head   ignores `head` (the classic bug, node-http-proxy#473)
//
// `Upgrade: echo` is answered with 101 and the socket echoes until the client's FIN,
// then ends its side (pipe's end: true). Any other request, or another token, gets 426.
'use strict';
const http = require('http');

const port = Number(process.argv[2]);
const mode = process.argv[3];
if (mode !== 'head' && mode !== 'no-head') {
  console.error('usage: node server.js PORT head|no-head');
  process.exit(2);
}

const refuse = 'HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end('upgrade required\n');
});

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  if (String(req.headers.upgrade || '').toLowerCase() !== 'echo') {
    socket.end(refuse);
    return;
  }
  socket.setNoDelay(true);
  socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
  if (mode === 'head' && head.length > 0) {
    socket.write(head);
  }
  socket.pipe(socket);
});

server.listen(port, '127.0.0.1');
