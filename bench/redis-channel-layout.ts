/**
 * Which Redis channel layout should the gateway bus use? Measures, against a private
 * redis-server, the two candidates with the gateway's own envelope codec and ioredis:
 *
 * - cluster: one channel every instance subscribes to; each instance receives every message and
 *   drops those for rooms it has no members in (a header parse and a map look-up);
 * - per-room: one channel per room with local members, plus one for broadcasts; an instance only
 *   receives what it delivers, but must SUBSCRIBE/UNSUBSCRIBE as rooms appear and disappear
 *   (every connection has its own session room, so that is every connect and disconnect).
 *
 * Reported per layout: wall time until every instance has received what it should, CPU of this
 * process (all instances' receive work plus publishing), Redis server CPU, messages the instances
 * received, and the cost of the subscription churn the per-room layout adds.
 *
 *   node --import tsx bench/redis-channel-layout.ts [instances=4] [rooms=4000] [messages=40000]
 */
import { Redis } from 'ioredis';
import { decodeEnvelope, encodeEnvelope } from '../src/server/broker/codec.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

const [INSTANCES = 4, ROOMS = 4000, MESSAGES = 40_000] = process.argv.slice(2).map(Number);
const BROADCAST_SHARE = 0.1;
const BATCH = 500;

interface Instance { id: string; sub: Redis; pub: Redis; rooms: Set<string>; received: number; expected: number; delivered: number }
interface Result { layout: string; wallMs: number; cpuMs: number; redisCpuMs: number; received: number; delivered: number; subscribeMs: number }

const frame = JSON.stringify({ type: 'notification', message: 'Booking updated', data: { id: 123456, resource: 'Meeting room 4', from: '2024-05-01T10:00:00Z' }, timestamp: new Date().toISOString() });

async function redisCpuMs(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const pick = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (pick('used_cpu_sys') + pick('used_cpu_user')) * 1000;
}

/** Deterministic traffic: message i goes to room (i * 7919) % ROOMS, every 10th is a broadcast. */
const targetOf = (i: number): string | null => (i % Math.round(1 / BROADCAST_SHARE) === 0 ? null : `session_${(i * 7919) % ROOMS}`);
const ownerOf = (roomIndex: number): number => roomIndex % INSTANCES;

async function run(layout: 'cluster' | 'per-room', port: number): Promise<Result> {
  const prefix = `bench-${layout}:`;
  const instances: Instance[] = [];
  for (let n = 0; n < INSTANCES; n++) {
    const rooms = new Set<string>();
    for (let r = n; r < ROOMS; r += INSTANCES) rooms.add(`session_${r}`);
    instances.push({ id: `i${n}`, sub: new Redis(port), pub: new Redis(port), rooms, received: 0, expected: 0, delivered: 0 });
  }
  for (let i = 0; i < MESSAGES; i++) {
    const room = targetOf(i);
    // What Redis hands each instance (its own envelopes come back too and are counted as received).
    if (layout === 'cluster') for (const inst of instances) inst.expected += 1;
    else if (room === null) for (const inst of instances) inst.expected += 1;
    else instances[ownerOf(Number(room.slice(8)))]!.expected += 1;
  }

  let done!: () => void;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  let complete = 0;
  for (const inst of instances) {
    inst.sub.on('message', (_channel: string, text: string) => {
      inst.received += 1;
      const decoded = decodeEnvelope(text);
      if (decoded && decoded.publication.origin !== inst.id) {
        const t = decoded.publication.target;
        if (t.kind === 'all' || inst.rooms.has(t.roomId)) inst.delivered += 1;
      }
      if (inst.received === inst.expected && ++complete === INSTANCES) done();
    });
  }

  const subscribeStart = performance.now();
  if (layout === 'cluster') {
    await Promise.all(instances.map((inst) => inst.sub.subscribe(`${prefix}bus`)));
  } else {
    await Promise.all(instances.map(async (inst) => {
      await inst.sub.subscribe(`${prefix}all`);
      // One SUBSCRIBE per room as connections arrive (a join must not miss messages sent right after it).
      await Promise.all([...inst.rooms].map((room) => inst.sub.subscribe(`${prefix}room:${room}`)));
    }));
  }
  const subscribeMs = performance.now() - subscribeStart;

  const redis0 = await redisCpuMs(instances[0]!.pub);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(MESSAGES, i + BATCH); j++) {
      const room = targetOf(j);
      const origin = instances[j % INSTANCES]!;
      const envelope = { origin: origin.id, target: room === null ? { kind: 'all' as const } : { kind: 'room' as const, roomId: room }, frame };
      const channel = layout === 'cluster' ? `${prefix}bus` : room === null ? `${prefix}all` : `${prefix}room:${room}`;
      batch.push(origin.pub.publish(channel, encodeEnvelope(envelope, { nonce: 'bench', seq: j, deliveredAtOrigin: false })));
    }
    await Promise.all(batch);
  }
  await finished;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const redisCpu = (await redisCpuMs(instances[0]!.pub)) - redis0;
  const result: Result = {
    layout, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, redisCpuMs: redisCpu,
    received: instances.reduce((s, i) => s + i.received, 0), delivered: instances.reduce((s, i) => s + i.delivered, 0), subscribeMs,
  };
  for (const inst of instances) { inst.sub.disconnect(); inst.pub.disconnect(); }
  return result;
}

/** Cost of the churn per-room adds: one SUBSCRIBE + UNSUBSCRIBE round trip per connect/disconnect. */
async function churn(port: number, pairs: number): Promise<number> {
  const sub = new Redis(port);
  await sub.subscribe('warm');
  const t0 = performance.now();
  for (let i = 0; i < pairs; i++) {
    await sub.subscribe(`churn:${i}`);
    await sub.unsubscribe(`churn:${i}`);
  }
  const ms = performance.now() - t0;
  sub.disconnect();
  return ms;
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  try {
    // Warm-up so JIT and connection set-up do not favour the second layout.
    await run('cluster', server.port);
    const results = [await run('cluster', server.port), await run('per-room', server.port), await run('cluster', server.port), await run('per-room', server.port)];
    const pairs = 2000;
    const churnMs = await churn(server.port, pairs);
    console.log(`instances=${INSTANCES} rooms=${ROOMS} messages=${MESSAGES} (broadcast share ${BROADCAST_SHARE}), frame ${frame.length} B`);
    console.log('layout     wall ms  node CPU ms  redis CPU ms  received  delivered  subscribe ms');
    for (const r of results) {
      console.log(`${r.layout.padEnd(9)} ${r.wallMs.toFixed(0).padStart(8)} ${r.cpuMs.toFixed(0).padStart(12)} ${r.redisCpuMs.toFixed(0).padStart(13)} ${String(r.received).padStart(9)} ${String(r.delivered).padStart(10)} ${r.subscribeMs.toFixed(1).padStart(13)}`);
    }
    console.log(`churn: ${pairs} SUBSCRIBE+UNSUBSCRIBE round trips took ${churnMs.toFixed(0)} ms (${((churnMs / pairs) * 1000).toFixed(0)} µs each)`);
  } finally {
    await server.stop();
  }
}

await main();
