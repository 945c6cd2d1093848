/** Opening the gateway in a browser: `/` is a small self-contained page linking what a person needs. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { after, before } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createMetrics } from '../../src/server/metrics.js';

let gw: TestGateway;
before(async () => { gw = await startTestGateway({}, { observer: createMetrics({ labels: { instance: 'home' } }) }); });
after(() => gw.close());
const shared = { get gw() { return gw; } };

const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);

test('GET / answers an HTML page linking the test page, health, metrics and the docs', async () => {
  const res = await fetch(`${shared.gw.httpUrl}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/html/);
  const csp = res.headers.get('content-security-policy')!;
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /script-src/, 'the page runs no script');
  const html = await res.text();
  const links = hrefs(html);
  for (const expected of ['websocket-test', 'health', 'metrics', 'docs/README.md']) assert.ok(links.includes(expected), `links ${expected}: ${links}`);
  if (fs.existsSync('docs/protocol.md')) assert.ok(links.includes('docs/protocol.md'));
  assert.ok(links.every((l) => !/^[a-z]+:|^\/\//i.test(l)), 'every link stays on the gateway');
  assert.doesNotMatch(html, /\bsrc=/, 'no external (or any) resources');

  for (const link of links) {
    const target = await fetch(new URL(link, `${shared.gw.httpUrl}/`));
    assert.equal(target.status, 200, `${link} answers`);
  }
  const readme = await fetch(`${shared.gw.httpUrl}/docs/README.md`);
  assert.match(readme.headers.get('content-type')!, /^text\/plain/);
  assert.match(await readme.text(), /^# portico-ws/);
});

test('behind the proxy: /wss redirects to /wss/, whose relative links resolve under /wss/', async () => {
  const redirect = await fetch(`${shared.gw.httpUrl}/wss`, { redirect: 'manual' });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/wss/');
  const html = await (await fetch(`${shared.gw.httpUrl}/wss/`)).text();
  const links = hrefs(html);
  assert.ok(!links.includes('metrics'), '/metrics is not under /wss, so it is not offered there');
  for (const link of links) {
    const target = await fetch(new URL(link, `${shared.gw.httpUrl}/wss/`));
    assert.equal(target.status, 200, `/wss/${link} answers`);
  }
});

test('without metrics, the page does not offer them', async () => {
  const plain = await startTestGateway();
  try {
    assert.ok(!hrefs(await (await fetch(`${plain.httpUrl}/`)).text()).includes('metrics'));
  } finally {
    await plain.close();
  }
});

test('other unknown paths still answer a JSON 404', async () => {
  const res = await fetch(`${shared.gw.httpUrl}/nothing-here`);
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type')!, /json/);
});
