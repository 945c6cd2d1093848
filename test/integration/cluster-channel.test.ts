/**
 * One contract for the cluster channel (instance-to-instance request/response of the admin
 * view), run against the in-process channel and the Redis pub/sub channel on a real redis-server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClusterChannel, ClusterResponder } from '../../src/server/cluster/channel.js';
import { MemoryClusterHub } from '../../src/server/cluster/memory.js';
import { RedisClusterChannel } from '../../src/server/cluster/redis.js';
import { RedisLink } from '../../src/server/redis/link.js';
import { silentLogger } from '../../src/server/log.js';
import { testRedisConfig } from '../helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

interface Cluster { channels: ClusterChannel[]; close(): Promise<void> }
type Build = (respond: ClusterResponder[]) => Promise<Cluster>;

/** Answers `{from, kind, body}` and counts its calls. */
function echo(id: string, calls: Map<string, number>): ClusterResponder {
  return (kind, body) => {
    calls.set(id, (calls.get(id) ?? 0) + 1);
    return { from: id, kind, body };
  };
}

function contract(name: string, build: Build): void {
  describe(`cluster channel contract: ${name}`, () => {
    test('an ask to every instance gets every answer, its own first, and ends as soon as the expected ones answered', async () => {
      const calls = new Map<string, number>();
      const cluster = await build(['a', 'b', 'c'].map((id) => echo(id, calls)));
      try {
        const [a] = cluster.channels as [ClusterChannel];
        const started = Date.now();
        const answers = await a.ask({ kind: 'snapshot', body: { n: 1 } }, { timeoutMs: 8000, expect: new Set(['b', 'c']) });
        assert.ok(Date.now() - started < 4000, 'did not wait for the timeout');
        assert.equal(answers[0]!.from, 'a');
        assert.deepEqual(answers.map((x) => x.from).sort(), ['a', 'b', 'c']);
        for (const x of answers) assert.deepEqual(x.ok ? x.body : null, { from: x.from, kind: 'snapshot', body: { n: 1 } });
      } finally {
        await cluster.close();
      }
    });

    test('with settleMs, instances not expected yet are heard too (how a new instance is discovered)', async () => {
      const calls = new Map<string, number>();
      const cluster = await build(['a', 'b', 'c'].map((id) => echo(id, calls)));
      try {
        const answers = await cluster.channels[0]!.ask({ kind: 'snapshot' }, { timeoutMs: 8000, expect: new Set(), settleMs: 500 });
        assert.deepEqual(answers.map((x) => x.from).sort(), ['a', 'b', 'c']);
      } finally {
        await cluster.close();
      }
    });

    test('an ask addressed to one instance is answered by that instance only', async () => {
      const calls = new Map<string, number>();
      const cluster = await build(['a', 'b', 'c'].map((id) => echo(id, calls)));
      try {
        const answers = await cluster.channels[0]!.ask({ kind: 'drain', to: 'c' }, { timeoutMs: 8000 });
        assert.deepEqual(answers.map((x) => x.from), ['c']);
        assert.deepEqual([...calls], [['c', 1]]);
      } finally {
        await cluster.close();
      }
    });

    test('a responder that throws answers ok:false with its message; one that never answers is missing after the timeout', async () => {
      const cluster = await build([() => 'fine', () => { throw new Error('no such thing'); }, () => new Promise(() => {})]);
      try {
        const started = Date.now();
        const answers = await cluster.channels[0]!.ask({ kind: 'x' }, { timeoutMs: 600, expect: new Set(['b', 'c']) });
        const took = Date.now() - started;
        assert.ok(took >= 550, `waited the timeout for the silent one (${took} ms)`);
        assert.deepEqual(answers.map((x) => x.from).sort(), ['a', 'b']);
        const b = answers.find((x) => x.from === 'b')!;
        assert.deepEqual(b, { from: 'b', ok: false, error: 'no such thing' });
      } finally {
        await cluster.close();
      }
    });

    test('a closed instance no longer answers', async () => {
      const calls = new Map<string, number>();
      const cluster = await build(['a', 'b'].map((id) => echo(id, calls)));
      try {
        await cluster.channels[1]!.close();
        const answers = await cluster.channels[0]!.ask({ kind: 'x' }, { timeoutMs: 400, expect: new Set(['b']) });
        assert.deepEqual(answers.map((x) => x.from), ['a']);
      } finally {
        await cluster.close();
      }
    });
  });
}

const ids = (n: number) => ['a', 'b', 'c'].slice(0, n);

contract('memory', async (responders) => {
  const hub = new MemoryClusterHub();
  const channels = ids(responders.length).map((id) => hub.channel(id));
  await Promise.all(channels.map((c, i) => c.start(responders[i]!)));
  return { channels, close: async () => { for (const c of channels) await c.close(); } };
});

let server: RedisServer;
before(async () => { server = await startRedisServer(); });
after(async () => { await server?.stop(); });

contract('redis', async (responders) => {
  const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
  const links = ids(responders.length).map((id) => new RedisLink(testRedisConfig(server), silentLogger(), id));
  const channels = links.map((link, i) => new RedisClusterChannel(link, ids(3)[i]!, prefix, silentLogger()));
  await Promise.all(channels.map((c, i) => c.start(responders[i]!)));
  await waitFor(() => links.every((l) => l.status === 'connected'), 'every link connected');
  return { channels, close: async () => { for (const c of channels) await c.close(); } };
});
