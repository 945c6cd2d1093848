/**
 * docs/protocol.md documents everything the code speaks: every client and server message type,
 * every ingress channel and payload type, every spool file kind, POST /publish, and (generated)
 * every error and close code. A type added in code but not in the document fails here, and so
 * does a heading left behind for a type the code no longer has.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { CHANNELS } from '../../src/protocol/constants.js';
import { PROTOCOL_DOC_BLOCKS } from '../../src/protocol/markdown.js';
import { serverSchemas } from '../../src/protocol/server-messages.js';
import { clientSchemas, sessionMessagesPayloadSchema } from '../../src/protocol/validate.js';
import { PUBLISH_PATHS } from '../../src/server/http/publish.js';
import { classifySpoolFile } from '../../src/server/ingress/spool.js';

const doc = fs.readFileSync('docs/protocol.md', 'utf8');

/** The text under `## title` up to the next `## ` heading. */
function section(title: string): string {
  const parts = doc.split(/^## /m);
  const found = parts.find((p) => p.startsWith(`${title}\n`));
  assert.ok(found, `docs/protocol.md has a "## ${title}" section`);
  return found;
}

/** Names in headings like "### `ping`" (level given by `hashes`). */
function headedNames(text: string, hashes: string): string[] {
  return [...text.matchAll(new RegExp(`^${hashes} \`([^\`]+)\`\\s*$`, 'gm'))].map((m) => m[1]!);
}

function assertSameSet(documented: string[], inCode: readonly string[], what: string): void {
  const missing = inCode.filter((t) => !documented.includes(t));
  const stale = documented.filter((t) => !inCode.includes(t));
  assert.deepEqual(missing, [], `${what} in the code but not in docs/protocol.md`);
  assert.deepEqual(stale, [], `${what} in docs/protocol.md but not in the code`);
}

test('every client → server type has its section, and no other', () => {
  assertSameSet(headedNames(section('Client → server'), '###'), Object.keys(clientSchemas), 'client message types');
});

test('every server → client type has its section, and no other', () => {
  assertSameSet(headedNames(section('Server → client'), '###'), Object.keys(serverSchemas), 'server message types');
});

test('every ingress channel and session_messages payload type has its section', () => {
  const ingress = section('Ingress: what the web application publishes');
  const channels = [...ingress.matchAll(/^### Channel `([^`]+)`\s*$/gm)].map((m) => m[1]!);
  assertSameSet(channels, CHANNELS, 'ingress channels');
  const sessionTypes = sessionMessagesPayloadSchema.options.map((o) => String(o.shape.type.value));
  assertSameSet(headedNames(ingress, '####'), sessionTypes, 'session_messages payload types');
});

test('every channel has a spool file kind, and the documented examples are classified as documented', () => {
  const spool = section('Ingress: what the web application publishes').split('### Spool files')[1]?.split(/^### /m)[0] ?? '';
  const rows = [...spool.matchAll(/^\| `[^`]+` \| `([^`]+)` \| `([^`]+)`/gm)];
  for (const [, example, channel] of rows) assert.equal(classifySpoolFile(example!)?.channel, channel, example);
  assertSameSet(rows.map((r) => r[2]!), CHANNELS, 'spool file channels');
});

test('POST /publish and its paths are documented', () => {
  const publish = section('Ingress: what the web application publishes').split('### POST /publish')[1];
  assert.ok(publish, 'a "### POST /publish" section');
  for (const p of PUBLISH_PATHS) assert.ok(publish.includes(`\`${p}\``) || publish.includes(`POST ${p}`), p);
});

test('the generated tables (error codes, close codes) match the code (run scripts/update-protocol-doc.mjs)', () => {
  for (const [name, render] of Object.entries(PROTOCOL_DOC_BLOCKS)) {
    const block = doc.split(`<!-- ${name}:start -->`)[1]?.split(`<!-- ${name}:end -->`)[0]?.trim();
    assert.equal(block, render(), `${name} table is stale: npm run build && node scripts/update-protocol-doc.mjs`);
  }
});
