#!/usr/bin/env node
// Rewrites the generated tables of docs/protocol.md (error codes, close codes) from the code that
// sends them (run after `npm run build`). test/unit/protocol-doc.test.ts fails when they are stale.
import fs from 'node:fs';
import { PROTOCOL_DOC_BLOCKS } from '../dist/protocol/markdown.js';

const file = 'docs/protocol.md';
let doc = fs.readFileSync(file, 'utf8');
for (const [name, render] of Object.entries(PROTOCOL_DOC_BLOCKS)) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const [before, rest] = doc.split(start);
  if (rest === undefined) throw new Error(`${file} has no ${start} marker`);
  doc = `${before}${start}\n${render()}\n${end}${rest.split(end)[1]}`;
}
fs.writeFileSync(file, doc);
console.log(`${file}: generated tables updated`);
