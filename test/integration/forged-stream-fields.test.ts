/**
 * A client cannot forge what only the server may say about streams: a relayed message keeps only
 * the `stream_position` the broker gave it (a forged one would make other members' clients drop
 * real messages as duplicates), never a `stream_positions`, and `recovery_result` is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

const forged = { stream: 'entity_resource_7', offset: 9_000_000, epoch: 'forged' };

async function member(url: string, cookie: string): Promise<TestClient> {
  const c = await TestClient.connect(url, { cookie });
  c.send({ type: 'subscribe', entityType: 'resource', entityId: 7 });
  await c.ofType('subscription_confirmation');
  return c;
}

for (const history of [true, false]) {
  test(`a relayed room_message carries the broker's stream_position only (history ${history ? 'on' : 'off'})`, async () => {
    const gw = await startTestGateway(history ? {} : { delivery: { historySize: 0 } });
    const sender = await member(gw.url, 'PHPSESSID=forger-session-01');
    const receiver = await member(gw.url, 'PHPSESSID=victim-session-01');
    try {
      sender.send({
        type: 'room_message', roomId: 'entity_resource_7', text: 'hello',
        stream_position: forged, stream_positions: { entity_resource_7: forged },
      });
      await receiver.next((m) => m.text === 'hello');
      const raw = receiver.raw.find((r) => r.includes('"hello"'))!;
      assert.equal(raw.split('"stream_position"').length - 1, history ? 1 : 0, raw);
      assert.ok(!raw.includes('stream_positions'), raw);
      assert.ok(!raw.includes('forged'), raw);
    } finally {
      sender.close();
      receiver.close();
      await gw.close();
    }
  });
}

test('a client cannot send a recovery_result to others', async () => {
  const gw = await startTestGateway({ clientBroadcast: 'all' });
  const sender = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=forger-session-02' });
  const receiver = await TestClient.connect(gw.url, { cookie: 'PHPSESSID=victim-session-02' });
  try {
    sender.send({ type: 'recovery_result', recovered: true, missed: 0, streams: {} });
    const reply = await sender.ofType('error');
    assert.equal(reply.code, 'FORBIDDEN_TYPE');
    sender.send({ type: 'chat', message: 'after' });
    await receiver.next((m) => m.message === 'after');
    assert.ok(!receiver.messages.some((m) => m.type === 'recovery_result'));
  } finally {
    sender.close();
    receiver.close();
    await gw.close();
  }
});
