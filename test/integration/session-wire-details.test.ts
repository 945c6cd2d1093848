/**
 * Session wire details checked against the reference server (PorticoEstate-v2 `src/WebSocket/`)
 * where the protocol notes left the exact value open: reply texts of update_session, the session type
 * an explicit update_session gives, and the `roomId` the original's sendToSessionRoom adds to
 * everything it delivers to a session room (except `server_message`). The last part calls
 * `Ingress.handle` directly with a source tag; the real Redis and spool paths are covered in
 * redis-ingress.test.ts and spool.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedTestGateway } from '../helpers/gateway.js';
import { sessionRoomId } from '../../src/server/session.js';

const shared = sharedTestGateway();
const connect = (cookie?: string, path?: string) => shared.connect(cookie, path);

describe('update_session replies', () => {
  test('texts of the original: set, unchanged, updated; invalid → "Invalid session ID provided"', async () => {
    const c = await connect();
    c.send({ type: 'update_session', sessionId: 'conformanceSession01' });
    const set = await c.ofType('session_update_confirmation');
    assert.deepEqual([set.action, set.wasRequired, set.message], ['set', true, 'Session ID set successfully']);
    c.send({ type: 'update_session', sessionId: 'conformanceSession01' });
    const none = await c.ofType('session_update_confirmation');
    assert.deepEqual([none.action, none.wasRequired, none.message], ['none', false, 'Session ID is unchanged']);
    c.send({ type: 'update_session', sessionId: 'conformanceSession02' });
    const updated = await c.ofType('session_update_confirmation');
    assert.deepEqual([updated.action, updated.wasRequired, updated.message], ['updated', false, 'Session ID updated']);
    c.send({ type: 'update_session', sessionId: '' });
    const err = await c.ofType('error');
    assert.deepEqual([err.code, err.message], ['INVALID_SESSION_ID', 'Invalid session ID provided']);
    assert.ok(!Number.isNaN(Date.parse(err.timestamp)));
  });

  test('a session set by update_session is a booking session (sessionContext.sessionType)', async () => {
    const sender = await connect('PHPSESSID=conformanceStd0001');
    const peer = await connect('bookingfrontendsession=conformanceBook002');
    sender.send({ type: 'chat', message: 'before update' });
    const before = await peer.next((m) => m.message === 'before update');
    assert.deepEqual(before.sessionContext, { hasSession: true, sessionType: 'standard' });
    sender.send({ type: 'update_session', sessionId: 'conformanceBook002' });
    assert.equal((await sender.ofType('session_update_confirmation')).action, 'updated');
    sender.send({ type: 'chat', message: 'after update' });
    const after = await peer.next((m) => m.message === 'after update');
    assert.deepEqual(after.sessionContext, { hasSession: true, sessionType: 'booking' });
  });
});

describe('Ingress.handle: deliveries to a session room carry roomId, whatever the source tag', () => {
  test('session_targeted: the unwrapped data gets roomId, except server_message and a roomId of its own', async () => {
    const c = await connect('PHPSESSID=conformanceTarget01');
    const roomId = sessionRoomId('conformanceTarget01');
    // Only the tag differs (local delivery for 'redis', the bus for the others); no Redis or spool file is involved.
    for (const source of ['redis', 'spool'] as const) {
      await shared.gw.gateway.ingress.handle('session_messages', {
        type: 'session_targeted', sessionId: 'conformanceTarget01', message: 'wrapper', data: { type: 'cart_update', via: source },
      }, source);
      const m = await c.next((x) => x.type === 'cart_update' && x.via === source);
      assert.equal(m.roomId, roomId, `roomId added (${source})`);
      assert.equal(m.sessionId, undefined, 'the wrapper is not delivered');
      assert.ok(!Number.isNaN(Date.parse(m.timestamp)));
    }
    await shared.gw.gateway.ingress.handle('session_messages', {
      type: 'session_targeted', sessionId: 'conformanceTarget01', message: 'w', data: { type: 'server_message', text: 'plain' },
    }, 'redis');
    const plain = await c.next((x) => x.type === 'server_message');
    assert.equal(plain.roomId, undefined, 'no roomId on server_message');
    await shared.gw.gateway.ingress.handle('session_messages', {
      type: 'session_targeted', sessionId: 'conformanceTarget01', message: 'w', data: { type: 'own_room', roomId: 'mine' },
    }, 'redis');
    assert.equal((await c.ofType('own_room')).roomId, 'mine', 'an existing roomId is kept');
  });

  test('update_partial_applications push carries the session roomId', async () => {
    const c = await connect('PHPSESSID=conformancePush001');
    await shared.gw.gateway.ingress.handle('session_messages', { type: 'update_partial_applications', sessionId: 'conformancePush001' }, 'redis');
    const push = await c.ofType('partial_applications_response');
    assert.equal(push.data.source, 'server_push');
    assert.equal(push.roomId, sessionRoomId('conformancePush001'));
    assert.ok(!Number.isNaN(Date.parse(push.timestamp)));
  });
});
