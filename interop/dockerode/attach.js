// dockerode interactive attach/exec: stdin to the container, its output to stdout/stderr.
const Docker = require('dockerode'); // NODE_PATH: install.sh's node_modules
const [host, mode = 'attach'] = process.argv.slice(2);
const url = new URL(host);
const docker = url.protocol === 'unix:'
  ? new Docker({ socketPath: url.pathname, version: 'v1.41' })
  : new Docker({ host: url.hostname, port: Number(url.port), protocol: 'http', version: 'v1.41' });

async function main() {
  const container = docker.getContainer('c1');
  const tty = (await container.inspect()).Config.Tty;
  let stream;
  if (mode === 'attach') {
    stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
  } else {
    const exec = await container.exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: tty });
    stream = await exec.start({ hijack: true, stdin: true, Tty: tty });
  }
  if (tty) stream.pipe(process.stdout);
  else docker.modem.demuxStream(stream, process.stdout, process.stderr);
  process.stdin.pipe(stream);
  // A terminal that hangs up makes the next read of stdin fail with EIO: that is
  // the end of input (as EOF is for a pipe), so end the attach stream (FIN).
  // Unhandled, Node throws it and dies before the container's output arrives
  // (seen once in CI on docker.output.tty.split-every-byte, exit status 134).
  process.stdin.on('error', (e) => {
    if (e.code !== 'EIO') throw e;
    stream.end();
  });
  stream.on('end', () => process.exit(0));
}
main().catch((e) => { console.error(`dockerode: ${e.message}`); process.exit(1); });
