/**
 * Database configuration: reading PorticoEstate's header.inc.php, the precedence of
 * DATABASE_URL / DB_* / WSS_PORTICO_CONFIG, validation, and a gateway built by the composition
 * root from WSS_PORTICO_CONFIG alone answering from a real PostgreSQL database.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildDependencies } from '../../src/server/bootstrap.js';
import { ConfigError, loadConfig } from '../../src/server/config/index.js';
import { parsePhpgwDomains, porticoDatabaseSettings, PorticoConfigError } from '../../src/server/data/portico-config.js';
import { resolveConnection } from '../../src/server/data/postgres-settings.js';
import { createGateway } from '../../src/server/gateway.js';
import { silentLogger } from '../../src/server/log.js';
import { tempDir } from '../helpers/gateway.js';
import { createTestDatabase, seedPartialApplications } from '../helpers/postgres.js';
import { TestClient } from '../helpers/ws-client.js';

/** A header.inc.php in PorticoEstate's layout, with the constructs that trip naive parsers. */
function header(db: { host: string; port: string | number; name: string; user: string; pass: string }): string {
  return `<?php
\t/**
\t* phpGroupWare header
\t*/
\tdefine('PHPGW_SERVER_ROOT', '/var/www/html');
\t$GLOBALS['phpgw_info']['server']['header_admin_password'] = 'secret';

\t$GLOBALS['phpgw_domain']['default'] = array
\t(
\t\t'db_host' => '${db.host}',
\t\t'db_port' => ${typeof db.port === 'number' ? db.port : `'${db.port}'`},
\t\t'db_name' => "${db.name}",
\t\t'db_user' => '${db.user}',
\t\t'db_pass' => '${db.pass}',
\t\t// Look at the README file
\t\t'db_type' => 'postgres',
\t\t'db_abstraction' => 'pdo',
\t\t'config_passwd' => 'x'
\t);

\t/* $GLOBALS['phpgw_domain']['default'] = array('db_host' => 'in-a-comment'); */
\t// $GLOBALS['phpgw_domain']['default']['db_name'] = 'commented-out';
\t# $GLOBALS['phpgw_domain']['default']['db_user'] = 'nobody';
\t$login_left_message = <<<HTML
$GLOBALS['phpgw_domain']['default']['db_host'] = 'inside-a-heredoc';
HTML;
\t$note = "$GLOBALS['phpgw_domain']['default']['db_host'] = 'inside-a-string'";
\theader("Content-Type: text/html;charset=utf-8");
`;
}


test('header.inc.php: the default domain, ignoring comments, heredocs and other assignments', () => {
  const s = porticoDatabaseSettings(header({ host: 'postgres', port: '5432', name: 'porticotest', user: 'portico', pass: "it\\'s" }));
  assert.deepEqual(s, { domain: 'default', host: 'postgres', port: 5432, name: 'porticotest', user: 'portico', password: "it's", type: 'postgres' });
});

test('header.inc.php: per-key assignments, short arrays, numeric ports, first domain when there is no default', () => {
  const perKey = porticoDatabaseSettings(`<?php
    $GLOBALS['phpgw_domain']['default']['db_host'] = "db.example";
    $GLOBALS['phpgw_domain']['default']['db_port'] = 6543;
    $GLOBALS['phpgw_domain']['default']['db_name'] = 'bk';`);
  assert.deepEqual([perKey.host, perKey.port, perKey.name, perKey.user], ['db.example', 6543, 'bk', undefined]);

  const short = porticoDatabaseSettings(`<?php $phpgw_domain['tenant1'] = ['db_host' => 'h1', 'db_name' => 'n1', 'nested' => ['a' => 'b'], 'db_user' => 'u1'];
    $phpgw_domain['tenant2'] = ['db_host' => 'h2'];`);
  assert.deepEqual([short.domain, short.host, short.name, short.user], ['tenant1', 'h1', 'n1', 'u1']);

  const both = parsePhpgwDomains(`<?php $GLOBALS['phpgw_domain']['a'] = array('db_host' => 'x'); $GLOBALS['phpgw_domain']['default'] = array('db_host' => 'y');`);
  assert.deepEqual([...both.keys()], ['a', 'default']);
  assert.equal(porticoDatabaseSettings(`<?php $GLOBALS['phpgw_domain']['a'] = array('db_host' => 'x'); $GLOBALS['phpgw_domain']['default'] = array('db_host' => 'y');`).host, 'y');
});

test('header.inc.php: a MySQL installation, a file without domains and a bad port are refused', () => {
  assert.throws(() => porticoDatabaseSettings(`<?php $GLOBALS['phpgw_domain']['default'] = array('db_type' => 'mysql');`), PorticoConfigError);
  assert.throws(() => porticoDatabaseSettings(`<?php $GLOBALS['phpgw_info']['server']['x'] = 1;`), /no \$GLOBALS\['phpgw_domain'\]/);
  assert.throws(() => porticoDatabaseSettings(`<?php $GLOBALS['phpgw_domain']['default'] = array('db_port' => 'abc');`), /db_port/);
});

test('configuration: disabled unless set; DATABASE_URL alone; DB_* override the file; bad values name the variable', () => {
  assert.equal(loadConfig({}).database.enabled, false);
  for (const env of [{ DATABASE_URL: 'postgres://u@h/d' }, { DB_HOST: 'h' }, { DB_NAME: 'd' }, { WSS_PORTICO_CONFIG: '/x/header.inc.php' }]) {
    assert.equal(loadConfig(env).database.enabled, true, JSON.stringify(env));
  }
  const fromUrl = resolveConnection(loadConfig({ DATABASE_URL: 'postgres://u:pw@h:6000/d', DB_HOST: 'ignored' }).database);
  assert.deepEqual(fromUrl.target, { connectionString: 'postgres://u:pw@h:6000/d' });
  assert.ok(!fromUrl.description.includes('pw'), 'the password stays out of the description');

  const file = { domain: 'default', host: 'filehost', port: 5433, name: 'filedb', user: 'fileuser', password: 'filepass', type: 'postgres' };
  const mixed = resolveConnection(loadConfig({ WSS_PORTICO_CONFIG: '/f', DB_HOST: 'envhost', DB_USER: 'envuser' }).database, () => file);
  assert.deepEqual(mixed.target, { host: 'envhost', port: 5433, database: 'filedb', user: 'envuser', password: 'filepass' });
  assert.equal(mixed.source, 'WSS_PORTICO_CONFIG');
  const defaults = resolveConnection(loadConfig({ DB_NAME: 'x' }).database);
  assert.deepEqual(defaults.target, { host: '127.0.0.1', port: 5432, database: 'x', user: 'portico' });

  const bad: Array<[Record<string, string>, string]> = [
    [{ DB_PORT: '70000' }, 'DB_PORT'], [{ DB_PORT: 'x' }, 'DB_PORT'], [{ DATABASE_URL: 'mysql://h/d' }, 'DATABASE_URL'],
    [{ WSS_DB_TIMEZONE: 'Mars/Olympus' }, 'WSS_DB_TIMEZONE'], [{ WSS_DB_STATEMENT_TIMEOUT_MS: '0' }, 'WSS_DB_STATEMENT_TIMEOUT_MS'],
  ];
  for (const [env, variable] of bad) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.variable === variable, variable);
  }
});

test('composition root: WSS_PORTICO_CONFIG alone gives a gateway that answers from the database', async () => {
  const db = await createTestDatabase();
  const dir = tempDir('portico-ws-header-');
  const file = path.join(dir, 'header.inc.php');
  fs.writeFileSync(file, header({ host: db.host, port: db.port, name: db.name, user: db.user, pass: '' }));
  let gateway: ReturnType<typeof createGateway> | null = null;
  try {
    await seedPartialApplications(db, 'cfgSessionA12345', 'cfgSessionB67890');
    const config = loadConfig({ WSS_PORTICO_CONFIG: file, WSS_HOST: '127.0.0.1', WSS_PORT: '0', WSS_SPOOL_ENABLED: 'false', WSS_LOG_ENABLED: 'false', WSS_LOG_TO_DOCKER: 'false' });
    gateway = createGateway(config, await buildDependencies(config, silentLogger()));
    const { port } = await gateway.start();
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    assert.equal(health.database, 'connected');
    const c = await TestClient.connect(`ws://127.0.0.1:${port}/wss`, { cookie: 'bookingfrontendsession=cfgSessionA12345' });
    c.send({ type: 'get_partial_applications' });
    const data = (await c.next((m) => m.type === 'partial_applications_response', 10_000)).data;
    assert.deepEqual([data.error, data.count], [false, 2]);
    c.close();
  } finally {
    await gateway?.close();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('composition root: an unreadable WSS_PORTICO_CONFIG stops start-up with an error naming it', async () => {
  const config = loadConfig({ WSS_PORTICO_CONFIG: path.join(tempDir(), 'missing', 'header.inc.php') });
  await assert.rejects(buildDependencies(config, silentLogger()), (err: unknown) => err instanceof ConfigError && err.variable === 'WSS_PORTICO_CONFIG');
});
