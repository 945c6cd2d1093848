/**
 * The admin API (issue 14) against two real gateways sharing a real redis-server: gateway A in
 * this process, gateway B a `portico-ws start` child process. Either instance answers for the
 * whole cluster; B frozen with SIGSTOP is listed as not answering within the timeout; the token
 * is checked (404 when unset); actions (disconnect, test notification, drain) reach the instance
 * that holds the connection.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.js';
import { ADMIN_TIMEOUT_MS, ADMIN_TOKEN, adminGet, adminPost, clusterInstances, startAdminCluster, type AdminCluster, type InstanceJson } from '../helpers/admin-cluster.js';
import { waitFor } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

const SESSION = 'admin-api-session-000000001';
let cluster: AdminCluster;
const clients: TestClient[] = [];

const byId = (list: InstanceJson[], id: string) => list.find((i) => i.id === id);

before(async () => {
  cluster = await startAdminCluster();
  const { a, b } = cluster;
  clients.push(await TestClient.connect(a.url, { cookie: `PHPSESSID=${SESSION}` }), await TestClient.connect(a.url));
  for (let i = 0; i < 3; i++) clients.push(await TestClient.connect(b.url));
  // One member of entity room resource 5 on each instance.
  for (const c of [clients[0]!, clients[2]!]) {
    c.send({ type: 'subscribe', entityType: 'resource', entityId: 5 });
    await c.ofType('subscription_confirmation');
  }
});

after(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

test('no token or a wrong one: 401 on every endpoint; the right one: 200', async () => {
  for (const path of ['cluster', 'samples', 'rooms', 'logs', 'lookup?q=x']) {
    assert.equal((await adminGet(cluster.a.httpUrl, path, null)).status, 401, path);
    assert.equal((await adminGet(cluster.a.httpUrl, path, 'wrong-token')).status, 401, path);
    assert.equal((await adminGet(cluster.a.httpUrl, path)).status, 200, path);
  }
  const post = await fetch(`${cluster.a.httpUrl}/admin/api/drain`, { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: '{"instance":"gw-b"}' });
  assert.equal(post.status, 401);
  assert.equal(cluster.a.lines.filter((l) => l.msg === 'admin refused: wrong token').length, 1, 'a token guesser gets one line a minute, not one per try');
  const foreign = await fetch(`${cluster.a.httpUrl}/admin/api/drain`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'https://evil.example' }, body: '{"instance":"gw-b"}',
  });
  assert.equal(foreign.status, 403, 'another origin is refused even with the token');
  const own = await fetch(`${cluster.a.httpUrl}/admin/api/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: cluster.a.httpUrl } });
  assert.equal(own.status, 200);
  assert.match(await (await fetch(`${cluster.a.httpUrl}/`)).text(), /href="admin"/, 'the start page links the admin view');
  const page = await fetch(`${cluster.a.httpUrl}/admin`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
});

test('WSS_ADMIN_TOKEN unset: /admin and /admin/api/* answer 404', async () => {
  const gw = await startTestGateway();
  try {
    assert.equal((await fetch(`${gw.httpUrl}/admin`)).status, 404);
    assert.equal((await adminGet(gw.httpUrl, 'cluster')).status, 404);
  } finally {
    await gw.close();
  }
});

test('either instance lists both, with their own client and room counts', async () => {
  for (const url of [cluster.a.httpUrl, cluster.b.httpUrl]) {
    await waitFor(async () => {
      const list = await clusterInstances(url);
      return byId(list, 'gw-a')?.clients === 2 && byId(list, 'gw-b')?.clients === 3;
    }, `both instances with 2 and 3 clients, asked at ${url}`);
    const list = await clusterInstances(url);
    assert.deepEqual(list.map((i) => [i.id, i.status]), [['gw-a', 'ok'], ['gw-b', 'ok']]);
    assert.deepEqual(byId(list, 'gw-a')!.rooms, { session: 1, entity: 1, user: 0, other: 0 });
    assert.deepEqual(byId(list, 'gw-b')!.rooms, { session: 0, entity: 1, user: 0, other: 0 });
    assert.equal(byId(list, 'gw-b')!.version, '0.1.0');
  }
});

test('busiest rooms, look-up and warnings come from every instance, masked', async () => {
  const rooms = (await adminGet<{ rooms: Array<{ room: string; members: number; instances: number }> }>(cluster.b.httpUrl, 'rooms')).body.rooms;
  assert.deepEqual(rooms.find((r) => r.room === 'entity_resource_5'), { room: 'entity_resource_5', kind: 'entity', members: 2, perMinute: 0, instances: 2 });
  const session = rooms.find((r) => r.room.startsWith('session_'))!;
  assert.match(session.room, /^session_[0-9a-f]{6}…$/);

  // By session id, asked at B: the member is on A, its session masked.
  const found = (await adminGet<{ instances: Array<{ instance: string; rooms: Array<{ room: string; members: Array<{ session: string }> }> }> }>(cluster.b.httpUrl, `lookup?q=${SESSION}`)).body;
  assert.equal(found.instances.length, 1);
  assert.equal(found.instances[0]!.instance, 'gw-a');
  assert.equal(found.instances[0]!.rooms[0]!.room, session.room);
  assert.equal(found.instances[0]!.rooms[0]!.members[0]!.session, 'admin-ap...');
  // By the masked id shown in the list: the same room.
  const masked = (await adminGet<{ instances: Array<{ rooms: Array<{ room: string }> }> }>(cluster.a.httpUrl, `lookup?q=${encodeURIComponent(session.room)}`)).body;
  assert.equal(masked.instances[0]!.rooms[0]!.room, session.room);

  // A wrong token at B is a warning on B, listed by A.
  await adminGet(cluster.b.httpUrl, 'cluster', 'not-the-token');
  await waitFor(async () => {
    const lines = (await adminGet<{ lines: Array<{ instance: string; msg: string }> }>(cluster.a.httpUrl, 'logs')).body.lines;
    return lines.some((l) => l.instance === 'gw-b' && l.msg === 'admin refused: wrong token');
  }, 'B\'s warning listed by A');

  for (const path of ['cluster', 'rooms', 'logs', `lookup?q=${SESSION}`]) {
    const text = JSON.stringify((await adminGet(cluster.a.httpUrl, path)).body);
    assert.ok(!text.includes(SESSION), `${path} does not show the session id`);
    assert.ok(!text.includes(ADMIN_TOKEN), `${path} does not show the token`);
  }
});

test('the charts have samples: the cluster total counts both instances\' connections', async () => {
  await waitFor(async () => {
    const total = (await adminGet<{ total: Array<{ connections: number }> }>(cluster.a.httpUrl, 'samples')).body.total;
    return total.at(-1)?.connections === 5;
  }, 'a 5-second sample summing 2 + 3 connections', 20_000);
});

test('a test notification reaches the room on both instances; disconnect closes a connection on the other instance', async () => {
  const sent = await adminPost(cluster.a.httpUrl, 'notify', { room: 'entity_resource_5', message: 'hello from admin' });
  assert.equal(sent.status, 202);
  for (const c of [clients[0]!, clients[2]!]) {
    const m = await c.next((x) => x.type === 'notification' && x.message === 'hello from admin');
    assert.equal(m.source, 'admin');
  }
  assert.equal((await adminPost(cluster.a.httpUrl, 'notify', { room: 'session_ab12cd…' })).status, 400, 'a masked id names no single room');

  const members = (await adminGet<{ instances: Array<{ instance: string; rooms: Array<{ members: Array<{ connection: string }> }> }> }>(cluster.a.httpUrl, 'lookup?q=entity_resource_5')).body;
  const onB = members.instances.find((i) => i.instance === 'gw-b')!.rooms[0]!.members[0]!.connection;
  const res = await adminPost<{ disconnected: boolean; instance: string }>(cluster.a.httpUrl, 'disconnect', { connection: onB });
  assert.deepEqual([res.status, res.body.disconnected, res.body.instance], [200, true, 'gw-b']);
  assert.equal(await clients[2]!.waitClosed(), 1000);
  assert.equal((await adminPost(cluster.a.httpUrl, 'disconnect', { connection: onB })).status, 404);
});

test('B frozen with SIGSTOP: listed as not answering (with what it said last) within the timeout; thawed, ok again', async () => {
  await waitFor(async () => byId(await clusterInstances(cluster.a.httpUrl), 'gw-b')?.clients === 2, 'B down to 2 clients');
  cluster.b.child.kill('SIGSTOP');
  try {
    const started = Date.now();
    const list = await clusterInstances(cluster.a.httpUrl);
    const took = Date.now() - started;
    assert.ok(took < ADMIN_TIMEOUT_MS + 1500, `answered in ${took} ms`);
    const b = byId(list, 'gw-b')!;
    assert.equal(b.status, 'not answering');
    assert.equal(b.clients, 2, 'last known count');
    assert.equal(byId(list, 'gw-a')!.status, 'ok');
  } finally {
    cluster.b.child.kill('SIGCONT');
  }
  await waitFor(async () => byId(await clusterInstances(cluster.a.httpUrl), 'gw-b')?.status === 'ok', 'B answering again');
});

test('drain B: its clients are closed with 1012 and reconnect to A; B exits 0', async () => {
  const onB = [clients[3]!, clients[4]!];
  const exited = new Promise<number | null>((resolve) => cluster.b.child.once('exit', (code) => resolve(code)));
  const res = await adminPost<{ draining: boolean }>(cluster.a.httpUrl, 'drain', { instance: 'gw-b' });
  assert.deepEqual([res.status, res.body.draining], [202, true]);
  for (const c of onB) assert.equal(await c.waitClosed(), 1012);
  for (let i = 0; i < onB.length; i++) clients.push(await TestClient.connect(cluster.a.url));
  assert.equal(await exited, 0);
  await waitFor(async () => byId(await clusterInstances(cluster.a.httpUrl), 'gw-a')?.clients === 4, 'A holds the moved clients');
  assert.ok(cluster.a.lines.some((l) => l.msg === 'admin action: drain' && l.instance === 'gw-b'), 'the action is logged where it was asked');
  assert.match(cluster.b.output(), /draining: closing every connection with 1012/, 'and where it happened');
});
