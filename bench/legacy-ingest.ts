/**
 * How should a message PHP publishes on a legacy channel (received by every instance) enter
 * history exactly once? Measures, against a private redis-server with the gateway's own Redis
 * broker and publish script, the two candidates:
 *
 * - claims: every instance offers every message with its occurrence claim; the first appends and
 *   publishes it, the others' scripts return at once (what the gateway does);
 * - lease: only the elected instance runs the publish script (the steady state of a lease-elected
 *   ingester; lease renewals and the takeover replay are not counted, so this is its lower bound).
 *
 * Reported per candidate and instance count: wall time until every instance delivered every
 * message, Redis CPU, and Redis CPU per message.
 *
 *   node --import tsx bench/legacy-ingest.ts [messages=5000]
 */
import { Redis } from 'ioredis';
import type { Publication } from '../src/server/broker/broker.js';
import { defaultConfig } from '../src/server/config/index.js';
import { silentLogger } from '../src/server/log.js';
import { createRedisDependencies } from '../src/server/redis/dependencies.js';
import { testRedisConfig } from '../test/helpers/redis-gateway.js';
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js';

const MESSAGES = Number(process.argv[2] ?? 5000);
const frame = JSON.stringify({ type: 'notification', message: 'Booking updated', data: { id: 123456, resource: 'Meeting room 4' }, timestamp: '2024-05-01T10:00:00+02:00' });

async function redisCpuMs(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const pick = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (pick('used_cpu_sys') + pick('used_cpu_user')) * 1000;
}

async function run(server: RedisServer, admin: Redis, mode: 'claims' | 'lease', instances: number) {
  const prefix = `b${Math.random().toString(36).slice(2, 7)}:`;
  const brokers = [];
  const counts: number[] = [];
  for (let i = 0; i < instances; i++) {
    const deps = createRedisDependencies(testRedisConfig(server, { prefix }), silentLogger(), `bench-${i}`, defaultConfig().delivery);
    counts.push(0);
    await deps.broker.start((_p: Publication) => { counts[i]! += 1; });
    brokers.push(deps.broker);
  }
  const cpuBefore = await redisCpuMs(admin);
  const started = process.hrtime.bigint();
  const sends: Promise<unknown>[] = [];
  for (let m = 0; m < MESSAGES; m++) {
    if (mode === 'lease') sends.push(brokers[0]!.publish({ target: { kind: 'all' }, frame }));
    else for (const b of brokers) sends.push(b.publish({ target: { kind: 'all' }, frame, claim: { key: `m${m}`, occurrence: 1 } }));
    if (sends.length >= 1000) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  while (counts.some((c) => c < MESSAGES)) await new Promise((r) => setTimeout(r, 5));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpuMs = (await redisCpuMs(admin)) - cpuBefore;
  for (const b of brokers) await b.close();
  return { mode, instances, wallMs: Math.round(wallMs), redisCpuMs: Math.round(cpuMs), redisUsPerMessage: Math.round((cpuMs * 1000) / MESSAGES) };
}

const server = await startRedisServer();
const admin = new Redis(server.port, '127.0.0.1');
const rows = [];
for (const instances of [1, 2, 4]) for (const mode of ['lease', 'claims'] as const) rows.push(await run(server, admin, mode, instances));
admin.disconnect();
await server.stop();
console.log(`| instances | candidate | wall ms (${MESSAGES} messages) | redis CPU ms | redis µs per message |`);
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.instances} | ${r.mode} | ${r.wallMs} | ${r.redisCpuMs} | ${r.redisUsPerMessage} |`);
