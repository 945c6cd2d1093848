/** The publisher's sendToUserRoom payload is exactly what PHP's WebSocketHelper::sendToUserRoom publishes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PublisherArgumentError, userRoomPayload } from '../../src/publisher/index.js';

test('target, userType and identifier are set last, timestamp added when missing', () => {
  const { channel, payload } = userRoomPayload('bb_user', '01017012345', { type: 'notification_event', target: 'everyone', notification: { id: 1 } });
  assert.equal(channel, 'notifications');
  assert.equal(payload.target, 'user', 'the caller cannot retarget it');
  assert.equal(payload.userType, 'bb_user');
  assert.equal(payload.identifier, '01017012345');
  assert.equal(payload.type, 'notification_event');
  assert.ok(typeof payload.timestamp === 'string');
  assert.equal(userRoomPayload('phpgw_accounts', 42, { timestamp: 'kept' }).payload.timestamp, 'kept');
});

test('bad arguments throw at once', () => {
  assert.throws(() => userRoomPayload('bb user', '1'), PublisherArgumentError);
  assert.throws(() => userRoomPayload('bb_user', ''), PublisherArgumentError);
  assert.throws(() => userRoomPayload('bb_user', 0), PublisherArgumentError);
  assert.throws(() => userRoomPayload('bb_user', '1', [] as never), PublisherArgumentError);
});
