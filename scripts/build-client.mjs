#!/usr/bin/env node
// Builds the browser client and the /websocket-test page into dist/client/:
//   portico-client.js      one script defining the global `createWebSocketClient` (readable)
//   portico-client.min.js  the same, minified: what the gateway serves at /client.js
//   index.js + *.d.ts      ESM build with type declarations, for apps that bundle (`portico-ws/client`)
//   websocket-test.html    the test page, its style and script inlined (no external resources)
//   admin.html             the admin view (/admin), likewise
// Options: --outdir <dir> (default dist/client), --no-types (skip the declarations).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--outdir');
const outdir = path.resolve(outIndex >= 0 ? args[outIndex + 1] : path.join(root, 'dist/client'));
const withTypes = !args.includes('--no-types');
const src = (p) => path.join(root, 'src/client', p);
// ES2020: every browser released since 2020 (optional chaining and `??` are lowered below that).
const target = ['es2020'];
const banner = '/* portico-ws browser client: https://github.com/PorticoEstate/PorticoEstate-v2 compatible. GPL-2.0-or-later */';

fs.mkdirSync(outdir, { recursive: true });

const common = { bundle: true, platform: 'browser', target, logLevel: 'warning', legalComments: 'none' };
await Promise.all([
  esbuild.build({ ...common, entryPoints: [src('global.ts')], format: 'iife', outfile: path.join(outdir, 'portico-client.js'), banner: { js: banner } }),
  esbuild.build({ ...common, entryPoints: [src('global.ts')], format: 'iife', minify: true, outfile: path.join(outdir, 'portico-client.min.js'), banner: { js: banner } }),
  esbuild.build({ ...common, entryPoints: [src('index.ts')], format: 'esm', sourcemap: true, outfile: path.join(outdir, 'index.js') }),
]);

const page = await esbuild.build({ ...common, entryPoints: [src('test-page/page.ts')], format: 'iife', minify: true, write: false });
const script = page.outputFiles[0].text.trim();
if (/<\/script/i.test(script)) throw new Error('test page script contains "</script" and cannot be inlined');
const style = (await esbuild.transform(fs.readFileSync(src('test-page/style.css'), 'utf8'), { loader: 'css', minify: true })).code.trim();
const html = fs.readFileSync(src('test-page/index.html'), 'utf8')
  .replace('/*STYLE*/', () => style)
  .replace('/*SCRIPT*/', () => script);
fs.writeFileSync(path.join(outdir, 'websocket-test.html'), html);

// The admin page (/admin), built the same way; the gateway allows its one inline script by hash.
const admin = await esbuild.build({ ...common, entryPoints: [src('admin-page/page.ts')], format: 'iife', minify: true, write: false });
const adminScript = admin.outputFiles[0].text.trim();
if (/<\/script/i.test(adminScript)) throw new Error('admin page script contains "</script" and cannot be inlined');
const adminStyle = (await esbuild.transform(fs.readFileSync(src('admin-page/style.css'), 'utf8'), { loader: 'css', minify: true })).code.trim();
fs.writeFileSync(path.join(outdir, 'admin.html'), fs.readFileSync(src('admin-page/index.html'), 'utf8')
  .replace('/*STYLE*/', () => adminStyle)
  .replace('/*SCRIPT*/', () => adminScript));

if (withTypes) {
  // Declarations next to index.js; the protocol's land in dist/protocol, where the server build puts them too.
  const tsc = path.join(root, 'node_modules/.bin/tsc');
  const result = spawnSync(tsc, ['-p', path.join(root, 'tsconfig.client.json'), '--outDir', path.dirname(outdir)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  fs.rmSync(path.join(outdir, 'test-page'), { recursive: true, force: true });
  fs.rmSync(path.join(outdir, 'admin-page'), { recursive: true, force: true });
}
console.log(`build-client: wrote ${path.relative(root, outdir) || outdir}`);
