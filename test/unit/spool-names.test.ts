import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifySpoolFile, compareSpoolNames, redactName } from '../../src/server/ingress/spool-files.js';

test('spool files are delivered in the order of their microtime stamps, whatever their kind', () => {
  const names = [
    'websocket_session_abc123_1732781234.5.json',
    'websocket_notification_1732781234.4567.json',
    'websocket_room_1732781235.json',
    'websocket_notification_1732781234.49.json',
    'websocket_notification_999999999.9.json',
    'websocket_notification_x.json',
  ];
  assert.deepEqual([...names].sort(compareSpoolNames), [
    'websocket_notification_999999999.9.json',
    'websocket_notification_1732781234.4567.json',
    'websocket_notification_1732781234.49.json',
    'websocket_session_abc123_1732781234.5.json',
    'websocket_room_1732781235.json',
    'websocket_notification_x.json',
  ]);
});

test('spool names: kinds, and session ids masked for logs', () => {
  assert.deepEqual(classifySpoolFile('websocket_session_abcdefghijkl_1.2.json'), { channel: 'session_messages', sessionId: 'abcdefghijkl' });
  assert.equal(classifySpoolFile('.websocket_notification_1.json.tmp'), null);
  assert.ok(!redactName('websocket_session_abcdefghijkl_1.2.json').includes('abcdefghijkl'));
});
