import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/server/log.js';

function sink() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  return { lines, stream: stream as unknown as NodeJS.WritableStream & { write(s: string): boolean } };
}
const settle = () => new Promise((r) => setImmediate(r));

test('defaults: info to stdout, warnings and errors to stderr only, debug off', async () => {
  const out = sink();
  const err = sink();
  const log = createLogger({ enabled: true, debug: false, toDocker: true }, { stdout: out.stream, stderr: err.stream });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  await settle();
  assert.deepEqual(out.lines.map((l) => l.msg), ['i']);
  assert.deepEqual(err.lines.map((l) => l.msg), ['w', 'e']);
});

test('WSS_LOG_ENABLED=false keeps only warnings on stderr; debug adds debug lines', async () => {
  const out = sink();
  const err = sink();
  const quiet = createLogger({ enabled: false, debug: false, toDocker: true }, { stdout: out.stream, stderr: err.stream });
  quiet.info('i');
  quiet.warn('w');
  const out2 = sink();
  const loud = createLogger({ enabled: true, debug: true, toDocker: false }, { stdout: out2.stream, stderr: err.stream });
  loud.debug('d');
  loud.warn('w2');
  await settle();
  assert.deepEqual(out.lines, []);
  assert.deepEqual(err.lines.map((l) => l.msg), ['w']);
  assert.deepEqual(out2.lines.map((l) => l.msg), ['d', 'w2']);
});

test('cookies and session ids are redacted', async () => {
  const out = sink();
  const log = createLogger({ enabled: true, debug: false, toDocker: false }, { stdout: out.stream });
  log.info({ headers: { cookie: 'PHPSESSID=topsecret' }, sessionId: 'topsecret2' }, 'x');
  await settle();
  const text = JSON.stringify(out.lines);
  assert.ok(!text.includes('topsecret'), text);
});
