import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { configTableMarkdown } from '../../src/server/config/markdown.js';

test('the README configuration table matches the code (run scripts/update-readme-config.mjs)', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  const block = readme.split('<!-- config-table:start -->')[1]?.split('<!-- config-table:end -->')[0]?.trim();
  assert.equal(block, configTableMarkdown());
});
