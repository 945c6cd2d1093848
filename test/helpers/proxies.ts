/**
 * Real nginx and Apache in front of a test gateway, configured with the snippets in deploy/
 * (only the backend port and a listen address filled in), each in its own temp folder, in the
 * foreground, stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './gateway.js';
import { freePort, waitForPort } from './net.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const snippet = (name: string, backendPort: number) =>
  fs.readFileSync(path.join(root, 'deploy', name, 'portico-ws.conf'), 'utf8').replaceAll('127.0.0.1:8080', `127.0.0.1:${backendPort}`);

export interface RunningProxy {
  name: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export const NGINX = '/usr/sbin/nginx';
export const APACHE = '/usr/sbin/apache2';

async function run(name: string, command: string, args: string[], port: number, dir: string): Promise<RunningProxy> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port, 10_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    const logs = ['error.log'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    throw new Error(`${name} did not start: ${(err as Error).message}\n${stderr}\n${logs}`);
  }
  return {
    name, port, url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => { fs.rmSync(dir, { recursive: true, force: true }); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/** nginx with deploy/nginx/portico-ws.conf, its server block listening on a free port. */
export async function startNginx(backendPort: number): Promise<RunningProxy> {
  const port = await freePort();
  const dir = tempDir('portico-ws-nginx-');
  const site = snippet('nginx', backendPort).replace(/server \{\n/, `server {\n    listen 127.0.0.1:${port};\n`);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${site}
}
`);
  return run('nginx', NGINX, ['-e', `${dir}/error.log`, '-p', dir, '-c', `${dir}/nginx.conf`], port, dir);
}

/** Apache with deploy/apache/portico-ws.conf inside a virtual host on a free port. */
export async function startApache(backendPort: number): Promise<RunningProxy> {
  const port = await freePort();
  const dir = tempDir('portico-ws-apache-');
  fs.writeFileSync(path.join(dir, 'site.conf'), snippet('apache', backendPort));
  const modules = ['mpm_event', 'authz_core', 'proxy', 'proxy_http', 'proxy_wstunnel', 'rewrite', 'headers'];
  fs.writeFileSync(path.join(dir, 'httpd.conf'), `ServerRoot ${dir}
ServerName 127.0.0.1
DefaultRuntimeDir ${dir}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
Mutex file:${dir} default
${modules.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n')}
User www-data
Group www-data
Listen 127.0.0.1:${port}
<VirtualHost 127.0.0.1:${port}>
  Include ${dir}/site.conf
</VirtualHost>
`);
  fs.chmodSync(dir, 0o755);
  return run('apache', APACHE, ['-f', `${dir}/httpd.conf`, '-DFOREGROUND'], port, dir);
}
