/** HTTP side of the browser client: /client.js and /websocket-test (also under /wss), ETag revalidation, missing build. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';
import { buildClientAssets } from './browser.js';

let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({}, { clientAssetsDir: buildClientAssets() });
});
after(() => gw.close());

for (const p of ['/client.js', '/wss/client.js']) {
  test(`GET ${p} serves the global-script client with an ETag, and 304 on If-None-Match`, async () => {
    const res = await fetch(gw.httpUrl + p);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const body = await res.text();
    assert.match(body, /createWebSocketClient/);
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(body));
    const etag = res.headers.get('etag')!;
    assert.match(etag, /^"[\w-]{20,}"$/);

    const again = await fetch(gw.httpUrl + p, { headers: { 'if-none-match': `"other", W/${etag}` } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('etag'), etag);
    assert.equal(await again.text(), '');
    const stale = await fetch(gw.httpUrl + p, { headers: { 'if-none-match': '"stale"' } });
    assert.equal(stale.status, 200);
  });
}

for (const p of ['/websocket-test', '/wss/websocket-test']) {
  test(`GET ${p} serves the self-contained test page`, async () => {
    const res = await fetch(gw.httpUrl + p);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.ok(res.headers.get('etag'));
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    assert.match(html, /<script src="client.js"><\/script>/, 'loads the served client relative to its own path');
    assert.match(html, /id="connection-status"/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external resources');
  });
}

test('HEAD answers headers only; other methods get 405', async () => {
  const head = await fetch(`${gw.httpUrl}/client.js`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.ok(Number(head.headers.get('content-length')) > 1000);
  assert.equal(await head.text(), '');
  const post = await fetch(`${gw.httpUrl}/client.js`, { method: 'POST' });
  assert.equal(post.status, 405);
});

test('a gateway without a client build answers 503 naming the fix, and still serves WebSockets and /health', async () => {
  const bare = await startTestGateway({}, { clientAssetsDir: tempDir('portico-ws-nobuild-') });
  try {
    const res = await fetch(`${bare.httpUrl}/client.js`);
    assert.equal(res.status, 503);
    assert.match((await res.json() as { message: string }).message, /npm run build/);
    assert.equal((await fetch(`${bare.httpUrl}/health`)).status, 200);
    const ws = await TestClient.connect(bare.url);
    ws.close();
  } finally {
    await bare.close();
  }
});

test('the browser bundles take only types from the protocol module: no zod in them', async () => {
  for (const p of ['/client.js', '/websocket-test']) {
    const body = await (await fetch(gw.httpUrl + p)).text();
    assert.match(body, /createWebSocketClient/);
    assert.doesNotMatch(body, /ZodError|safeParse|\$ZodType/, `${p} carries zod`);
    assert.ok(body.length < 40_000, `${p} is ${body.length} bytes`);
  }
});
