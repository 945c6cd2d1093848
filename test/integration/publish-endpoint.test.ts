import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

const TOKEN = 'publish-endpoint-token-123';
let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({ publish: { token: TOKEN, maxBodyBytes: 4096 } });
});
after(() => gw.close());

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${gw.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}
const auth = { authorization: `Bearer ${TOKEN}` };

test('a good request is handled like the Redis channel and answered 202', async () => {
  const client = await TestClient.connect(gw.url);
  const res = await post('/publish', JSON.stringify({ channel: 'notifications', payload: { type: 'notification', message: 'hello over http', data: { n: 1 } } }), auth);
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { ok: true, channel: 'notifications' });
  const msg = await client.next((m) => m.message === 'hello over http');
  assert.equal(msg.type, 'notification');
  assert.equal(msg.source, 'http');
  assert.deepEqual(msg.data, { n: 1 });
  assert.ok(msg.received_at && msg.timestamp);
  client.close();
});

test('/wss-publish is an alias, and session_messages deliver data unwrapped to the session room', async () => {
  const inSession = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=httpPublishSession1' });
  const other = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=someoneElse22' });
  const res = await post('/wss-publish', JSON.stringify({
    channel: 'session_messages',
    payload: { type: 'session_targeted', sessionId: 'httpPublishSession1', message: 'm', data: { type: 'booking_update', id: 9 } },
  }), auth);
  assert.equal(res.status, 202);
  const msg = await inSession.next((m) => m.type === 'booking_update');
  assert.equal(msg.id, 9);
  assert.equal(msg.sessionId, undefined, 'the wrapper is not delivered');
  assert.ok(await other.expectNone((m) => m.type === 'booking_update'));
  inSession.close();
  other.close();
});

test('missing and wrong tokens are 401 with a JSON error and nothing is delivered', async () => {
  const client = await TestClient.connect(gw.url);
  const body = JSON.stringify({ channel: 'notifications', payload: { type: 'notification', message: 'must not arrive' } });
  const variants: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }];
  for (const headers of variants) {
    const res = await post('/publish', body, headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(((await res.json()) as { error: string }).error, 'unauthorized');
  }
  assert.ok(await client.expectNone((m) => m.message === 'must not arrive'));
  client.close();
});

test('bad bodies are 400 with a JSON error naming the problem', async () => {
  const cases: Array<[string, string]> = [
    ['{not json', 'invalid_json'],
    ['[]', 'invalid_body'],
    [JSON.stringify({ channel: 'elsewhere', payload: {} }), 'invalid_body'],
    [JSON.stringify({ channel: 'notifications', payload: 'text' }), 'invalid_body'],
    [JSON.stringify({ channel: 'room_messages', payload: { type: 'room_message' } }), 'invalid_payload'],
    [JSON.stringify({ channel: 'session_messages', payload: { type: 'session_targeted', sessionId: 'bad id!' } }), 'invalid_payload'],
  ];
  for (const [body, error] of cases) {
    const res = await post('/publish', body, auth);
    assert.equal(res.status, 400, body);
    const json = (await res.json()) as { error: string; message: string };
    assert.equal(json.error, error, body);
    assert.ok(json.message.length > 0);
  }
});

test('bodies over the limit are 413, with or without Content-Length', async () => {
  const big = JSON.stringify({ channel: 'notifications', payload: { type: 'notification', message: 'x'.repeat(5000) } });
  const res = await post('/publish', big, auth);
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: string }).error, 'payload_too_large');

  // Chunked, so the server only finds out while reading.
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${gw.httpUrl}/publish`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let i = 0; i < 5; i++) req.write('x'.repeat(1000));
    req.end();
  });
  assert.equal(status, 413);
  // The gateway still serves normal requests afterwards.
  assert.equal((await post('/publish', JSON.stringify({ channel: 'notifications', payload: { message: 'ok' } }), auth)).status, 202);
});

test('GET on the endpoint is 405', async () => {
  const res = await fetch(`${gw.httpUrl}/publish`, { headers: auth });
  assert.equal(res.status, 405);
});

test('without WSS_PUBLISH_TOKEN the endpoint does not exist (404)', async () => {
  const plain = await startTestGateway();
  try {
    const res = await fetch(`${plain.httpUrl}/publish`, { method: 'POST', headers: auth, body: JSON.stringify({ channel: 'notifications', payload: {} }) });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'not_found');
  } finally {
    await plain.close();
  }
});

test('a publish whose body completes after shutdown began is answered 503, so the publisher falls back', async () => {
  const own = await startTestGateway({ publish: { token: TOKEN }, timers: { shutdownTimeoutMs: 3000 } });
  const listener = await TestClient.connect(own.url);
  // A client that never answers the close handshake keeps shutdown in progress for a while.
  const stubborn = await TestClient.connect(own.url);
  (stubborn.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  try {
    const body = JSON.stringify({ channel: 'notifications', payload: { type: 'notification', message: 'late' } });
    const status = new Promise<number>((resolve, reject) => {
      const req = http.request(`${own.httpUrl}/publish`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        void own.close();
        setTimeout(() => req.end(body.slice(10)), 100);
      }, 200);
    });
    assert.equal(await status, 503);
    assert.equal(listener.count((m) => m.message === 'late'), 0, 'not handed to closing connections');
  } finally {
    await own.close();
  }
});
