// api-gateway for obs's real-clients tests (tests/support/realsvc.py starts it).
//
// Plain node:http on purpose: no framework means nothing but @opentelemetry/instrumentation-http sees the
// requests, so what arrives is exactly what that instrumentation emits (and a plain server has no
// http.route). It is instrumented only the documented zero-code way:
//   node --require @opentelemetry/auto-instrumentations-node/register app.js
// and configured only by OTEL_* variables; this file never touches the OpenTelemetry API.
//
// GET /work calls DOWNSTREAM_URL (GET, over node:http, so W3C tracecontext is injected by the
// instrumentation), with /work's query string if it has one, and answers with the downstream's status
// code. Anything else is a 404.
'use strict';

const http = require('node:http');

const port = Number(process.env.PORT);
const downstream = process.env.DOWNSTREAM_URL;
if (!Number.isInteger(port) || port <= 0 || !downstream) {
  console.error('api-gateway: PORT and DOWNSTREAM_URL must be set');
  process.exit(2);
}
// A kept-alive agent, so the downstream sees one connection per concurrent request, not one per request.
const agent = new http.Agent({ keepAlive: true });

function callDownstream(query, done) {
  const url = query ? `${downstream}${downstream.includes('?') ? '&' : '?'}${query}` : downstream;
  const req = http.get(url, { agent, timeout: 30000 }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode));
  });
  req.on('timeout', () => req.destroy(new Error('downstream timed out')));
  req.on('error', () => done(502));
}

const server = http.createServer((req, res) => {
  const [path, query] = req.url.split('?', 2);
  if (req.method === 'GET' && path === '/work') {
    callDownstream(query, (status) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ downstream: status }));
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not found"}');
});

// The register hook listens for SIGTERM only to shut the SDK down (flushing spans and metrics); having a
// listener at all stops Node's default exit, so without this the process would never end on SIGTERM.
// Stop accepting, drop idle connections and let the event loop drain: the SDK's final exports are the
// last work pending, and the process exits 0 once they are done. The unref'd timer is the backstop.
process.on('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  agent.destroy();
  setTimeout(() => {
    console.error('api-gateway: still busy 10 s after SIGTERM; exiting');
    process.exit(0);
  }, 10000).unref();
});

server.listen(port, '127.0.0.1', () => {
  console.log(`api-gateway listening on 127.0.0.1:${port}, downstream ${downstream}`);
});
