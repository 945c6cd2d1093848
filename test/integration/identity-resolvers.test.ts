/**
 * One contract for every IdentityResolver (memory, HTTP callback against a real HTTP server
 * standing in for PorticoEstate, signed token), then what only the HTTP and token ones do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpIdentityResolver } from '../../src/server/identity/http.js';
import { MemoryIdentityResolver } from '../../src/server/identity/memory.js';
import { NoIdentityResolver } from '../../src/server/identity/none.js';
import type { IdentityRequest, IdentityResolver } from '../../src/server/identity/resolver.js';
import { TokenIdentityResolver } from '../../src/server/identity/token.js';
import { UserRoomIds } from '../../src/server/identity/user-rooms.js';
import { silentLogger } from '../../src/server/log.js';
import { captureLogger, waitFor } from '../helpers/redis-gateway.js';
import { TEST_AUTH_SECRET, mintToken, startPorticoAuthServer, type PorticoAuthServer } from '../helpers/portico-auth.js';

const FIELDS = [{ userType: 'bb_user', field: 'ssn' }, { userType: 'phpgw_accounts', field: 'account_id' }];

interface Fixture {
  resolver: IdentityResolver;
  /** Make `sessionId` provably belong to `identities`; returns the request that carries the proof. */
  grant(sessionId: string, identities: Record<string, string>): Promise<IdentityRequest>;
  close(): Promise<void>;
}

const plain = (sessionId: string | null): IdentityRequest => ({ sessionId, cookieName: 'bookingfrontendsession' });

const implementations: Record<string, () => Promise<Fixture>> = {
  memory: async () => {
    const resolver = new MemoryIdentityResolver();
    return {
      resolver,
      grant: async (sessionId, identities) => { resolver.set(sessionId, identities); return plain(sessionId); },
      close: async () => {},
    };
  },
  http: async () => {
    const portico = await startPorticoAuthServer();
    const resolver = new HttpIdentityResolver({ url: portico.userUrl, fields: FIELDS, timeoutMs: 2000, cacheMs: 60_000, probeIntervalMs: 100, log: silentLogger() });
    return {
      resolver,
      grant: async (sessionId, identities) => {
        portico.login(sessionId, { ssn: identities.bb_user, account_id: identities.phpgw_accounts ? Number(identities.phpgw_accounts) : undefined });
        return plain(sessionId);
      },
      close: () => portico.close(),
    };
  },
  token: async () => {
    const resolver = new TokenIdentityResolver(TEST_AUTH_SECRET, new NoIdentityResolver());
    return {
      resolver,
      grant: async (sessionId, identities) => ({ ...plain(sessionId), token: await mintToken({ sid: sessionId, identities }) }),
      close: async () => {},
    };
  },
};

for (const [name, make] of Object.entries(implementations)) {
  describe(`IdentityResolver contract: ${name}`, () => {
    let fx: Fixture;
    before(async () => { fx = await make(); });
    after(() => fx.close());

    test('a session with proof resolves to exactly its identities', async () => {
      const request = await fx.grant('sessAAAA1111', { bb_user: '01017012345', phpgw_accounts: '42' });
      const outcome = await fx.resolver.resolve(request);
      assert.equal(outcome.kind, 'resolved');
      assert.deepEqual(outcome.kind === 'resolved' && { ...outcome.identities }, { bb_user: '01017012345', phpgw_accounts: '42' });
    });

    test('a session without proof is anonymous', async () => {
      assert.deepEqual(await fx.resolver.resolve(plain('sessNobody999')), { kind: 'anonymous' });
    });

    test('no session at all is anonymous', async () => {
      assert.deepEqual(await fx.resolver.resolve(plain(null)), { kind: 'anonymous' });
    });

    test("one session never gets another's identities", async () => {
      const a = await fx.grant('sessOneA', { bb_user: '11111111111' });
      const b = await fx.grant('sessTwoB', { bb_user: '22222222222' });
      const [ra, rb] = [await fx.resolver.resolve(a), await fx.resolver.resolve(b)];
      assert.equal(ra.kind === 'resolved' && ra.identities.bb_user, '11111111111');
      assert.equal(rb.kind === 'resolved' && rb.identities.bb_user, '22222222222');
    });

    test('asking again gives the same answer, and identities cannot be changed by the caller', async () => {
      const request = await fx.grant('sessStable1', { bb_user: '33333333333' });
      const first = await fx.resolver.resolve(request);
      const second = await fx.resolver.resolve(request);
      assert.deepEqual(first, second);
      assert.ok(first.kind === 'resolved');
      assert.throws(() => { (first.identities as Record<string, string>).bb_user = 'forged'; });
    });
  });
}

describe('HTTP identity callback', () => {
  let portico: PorticoAuthServer;
  before(async () => { portico = await startPorticoAuthServer(); });
  after(() => portico.close());

  const make = (opts: { cacheMs?: number; timeoutMs?: number } = {}) => {
    const { log, lines } = captureLogger();
    const resolver = new HttpIdentityResolver({ url: portico.userUrl, fields: FIELDS, timeoutMs: opts.timeoutMs ?? 2000, cacheMs: opts.cacheMs ?? 60_000, probeIntervalMs: 200, log });
    return { resolver, lines };
  };

  test('answers are cached per session, the negative one (401) too, and only the session cookie is sent', async () => {
    const { resolver } = make();
    portico.login('cacheHit01', { ssn: '44444444444' });
    const before = portico.requests.user;
    for (let i = 0; i < 3; i++) assert.equal((await resolver.resolve(plain('cacheHit01'))).kind, 'resolved');
    for (let i = 0; i < 3; i++) assert.equal((await resolver.resolve(plain('cacheMiss01'))).kind, 'anonymous');
    assert.equal(portico.requests.user - before, 2, 'one request per session, then the cache');
    assert.equal(portico.cookies.at(-1), 'bookingfrontendsession=cacheMiss01');
    await resolver.resolve({ sessionId: 'std0001', cookieName: 'PHPSESSID' });
    assert.equal(portico.cookies.at(-1), 'PHPSESSID=std0001');
  });

  test('on update_session (fresh) a cached "anonymous" is asked again, at most once a second; a cached identity is kept', async () => {
    const { resolver } = make();
    const cachedAt = Date.now();
    assert.equal((await resolver.resolve(plain('loginLater1'))).kind, 'anonymous');
    portico.login('loginLater1', { ssn: '77777777777' });
    assert.equal((await resolver.resolve(plain('loginLater1'))).kind, 'anonymous', 'without fresh, the cache answers');
    const before = portico.requests.user;
    const early = await resolver.resolve({ ...plain('loginLater1'), fresh: true });
    if (Date.now() - cachedAt < 900) assert.equal(early.kind, 'anonymous', 'a "no" younger than a second is reused');
    await waitFor(async () => (await resolver.resolve({ ...plain('loginLater1'), fresh: true })).kind === 'resolved', 'the login to be seen', 5000);
    assert.equal(portico.requests.user - before, 1, 'one request, however often it was asked');
    portico.logout('loginLater1');
    assert.equal((await resolver.resolve({ ...plain('loginLater1'), fresh: true })).kind, 'resolved', 'a cached identity is kept for its time');
  });

  test('concurrent questions for one session share one request', async () => {
    const { resolver } = make({ cacheMs: 0 });
    portico.login('together1', { ssn: '55555555555' });
    const before = portico.requests.user;
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => resolver.resolve(plain('together1'))));
    assert.ok(outcomes.every((o) => o.kind === 'resolved'));
    assert.equal(portico.requests.user - before, 1);
  });

  test('cacheMs 0 asks every time, so a logout is seen at once', async () => {
    const { resolver } = make({ cacheMs: 0 });
    portico.login('noCache1', { ssn: '66666666666' });
    assert.equal((await resolver.resolve(plain('noCache1'))).kind, 'resolved');
    portico.logout('noCache1');
    assert.equal((await resolver.resolve(plain('noCache1'))).kind, 'anonymous');
  });

  test('down, 5xx and slow are "unavailable" (never cached); while down only one probe per interval goes out; one log line per change', async () => {
    const { resolver, lines } = make({ timeoutMs: 300 });
    portico.login('flaky001', { account_id: 7 });
    assert.equal((await resolver.resolve(plain('flaky001'))).kind, 'resolved');
    assert.equal(resolver.state, 'up');

    portico.setFailure(500);
    assert.deepEqual(await resolver.resolve(plain('flaky002')), { kind: 'unavailable' });
    assert.equal(resolver.state, 'down');
    const sent = portico.cookies.length;
    for (let i = 0; i < 5; i++) assert.deepEqual(await resolver.resolve(plain(`flakyFast${i}`)), { kind: 'unavailable' });
    assert.equal(portico.cookies.length, sent, 'between probes, questions fail at once without a request');
    portico.setFailure(null);
    await waitFor(async () => (await resolver.resolve(plain('flaky002'))).kind === 'anonymous', 'a probe to find the endpoint back', 5000);
    assert.equal(resolver.state, 'up');

    portico.setDelay(1000);
    const started = Date.now();
    assert.deepEqual(await resolver.resolve(plain('flaky003')), { kind: 'unavailable' });
    assert.ok(Date.now() - started < 900, 'gave up at the timeout');
    portico.setDelay(0);

    await portico.down();
    for (let i = 0; i < 5; i++) assert.deepEqual(await resolver.resolve(plain(`flakyDown${i}`)), { kind: 'unavailable' });
    assert.equal((await resolver.resolve(plain('flaky001'))).kind, 'resolved', 'a cached answer still serves while down');
    await portico.up();
    await waitFor(async () => (await resolver.resolve(plain('flakyDown0'))).kind === 'anonymous', 'the endpoint back (the failure was not cached)', 5000);
    assert.equal(resolver.state, 'up');
    const changes = lines.filter((l) => /identity endpoint/.test(l.msg)).map((l) => `${l.from}->${l.to}`);
    assert.deepEqual(changes, ['unknown->up', 'up->down', 'down->up', 'up->down', 'down->up']);
    assert.ok(!JSON.stringify(lines).includes('flaky'), 'session ids are never logged');
  });

  test('a 2xx that is not JSON means the endpoint is misconfigured: unavailable, not anonymous', async () => {
    const http = await import('node:http');
    const server = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>login</html>'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const resolver = new HttpIdentityResolver({ url: `http://127.0.0.1:${port}/`, fields: FIELDS, timeoutMs: 1000, cacheMs: 1000, probeIntervalMs: 100, log: silentLogger() });
    assert.deepEqual(await resolver.resolve(plain('html0001')), { kind: 'unavailable' });
    assert.equal(resolver.state, 'down');
    await new Promise<void>((r) => server.close(() => r()));
  });
});

describe('signed identity token', () => {
  const resolver = new TokenIdentityResolver(TEST_AUTH_SECRET, new NoIdentityResolver());
  const withToken = (sessionId: string | null, token: string): IdentityRequest => ({ ...plain(sessionId), token });

  test('a good token binds its sid: no session yet takes it, the same session is fine', async () => {
    const token = await mintToken({ sid: 'tokSess01', identities: { bb_user: '01017012345' } });
    const fresh = await resolver.resolve(withToken(null, token));
    assert.deepEqual(fresh, { kind: 'resolved', identities: { bb_user: '01017012345' }, sessionId: 'tokSess01' });
    assert.equal((await resolver.resolve(withToken('tokSess01', token))).kind, 'resolved');
  });

  const refused: Array<[string, () => Promise<IdentityRequest>, RegExp]> = [
    ['a token for another session', async () => withToken('someoneElse', await mintToken({ sid: 'tokSess01' })), /another session/],
    ['a wrong signature', async () => withToken(null, await mintToken({ sid: 'tokSess01' }, { secret: 'not-the-secret-0123456789-abcdefghij' })), /signature/],
    ['an expired token', async () => withToken(null, await mintToken({ sid: 'tokSess01' }, { expiresInS: -60 })), /expired/],
    ['another algorithm', async () => withToken(null, await mintToken({ sid: 'tokSess01' }, { alg: 'HS512' })), /HS256/],
    ['garbage', async () => withToken(null, 'not.a.jwt'), /malformed/],
    ['a tampered payload', async () => {
      const [h, , s] = (await mintToken({ sid: 'tokSess01', identities: { bb_user: '1' } })).split('.');
      const forged = Buffer.from(JSON.stringify({ sid: 'tokSess01', identities: { bb_user: '2' }, exp: 9999999999 })).toString('base64url');
      return withToken(null, `${h}.${forged}.${s}`);
    }, /signature/],
  ];
  for (const [what, request, reason] of refused) {
    test(`${what} is refused with no identity`, async () => {
      const outcome = await resolver.resolve(await request());
      assert.equal(outcome.kind, 'invalid_token');
      assert.match(outcome.kind === 'invalid_token' ? outcome.reason : '', reason);
    });
  }

  test('without a token the fallback decides', async () => {
    const memory = new MemoryIdentityResolver();
    memory.set('fallback1', { phpgw_accounts: '9' });
    const chained = new TokenIdentityResolver(TEST_AUTH_SECRET, memory);
    assert.equal((await chained.resolve(plain('fallback1'))).kind, 'resolved');
  });
});

test('no identity source: everyone is anonymous', async () => {
  assert.deepEqual(await new NoIdentityResolver().resolve(), { kind: 'anonymous' });
});

test('user room ids: keyed, stable per key, never containing the identifier', () => {
  const a = UserRoomIds.fromSecrets('k'.repeat(32), undefined);
  const b = UserRoomIds.fromSecrets('k'.repeat(32), undefined);
  const other = UserRoomIds.fromSecrets('j'.repeat(32), undefined);
  const id = a.roomId('bb_user', '01017012345');
  assert.match(id, /^user_[0-9a-f]{32}$/);
  assert.equal(b.roomId('bb_user', '01017012345'), id, 'same key on every instance: same room');
  assert.notEqual(other.roomId('bb_user', '01017012345'), id, 'the key matters: no dictionary of plain hashes works');
  assert.notEqual(a.roomId('phpgw_accounts', '01017012345'), id, 'user types are separate');
  const derived = UserRoomIds.fromSecrets(undefined, TEST_AUTH_SECRET);
  assert.equal(derived.source, 'WSS_AUTH_SECRET');
  assert.equal(derived.roomId('bb_user', '1'), UserRoomIds.fromSecrets(undefined, TEST_AUTH_SECRET).roomId('bb_user', '1'));
  assert.equal(UserRoomIds.fromSecrets(undefined, undefined).source, 'random');
});

