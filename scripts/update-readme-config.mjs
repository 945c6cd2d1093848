#!/usr/bin/env node
// Rewrites the README's configuration table from the code that parses the configuration
// (run after `npm run build`). test/unit/readme.test.ts fails when the README is stale.
import fs from 'node:fs';
import { configTableMarkdown } from '../dist/server/config/markdown.js';

const start = '<!-- config-table:start -->';
const end = '<!-- config-table:end -->';
const readme = fs.readFileSync('README.md', 'utf8');
const [before, rest] = readme.split(start);
const after = rest.split(end)[1];
fs.writeFileSync('README.md', `${before}${start}\n${configTableMarkdown()}\n${end}${after}`);
console.log('README configuration table updated');
