#!/usr/bin/env node
// Runs every test file under test/ (or those whose path contains one of the given words)
// with Node's own test runner, TypeScript loaded through tsx. Options (--...) go to the runner:
//   node scripts/run-tests.mjs error-paths --test-name-pattern='RATE_LIMITED'
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return find(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const options = args.filter((a) => a.startsWith('--'));
const files = find('test').sort().filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...options, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
