#!/usr/bin/env bash
# Installs/starts what the test suite needs when it is missing: redis-server (the tests spawn
# their own on free ports, plus the machine's on 6379), PostgreSQL on 127.0.0.1:5432, and
# Debian's chromium for the browser tests. Idempotent; safe to run on a machine that has it all.
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "ensure-test-services: need root to install $*" >&2; return 1; fi
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v redis-server >/dev/null || apt_install redis-server
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi

command -v psql >/dev/null || apt_install postgresql postgresql-client
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
# The database tests connect as user postgres over 127.0.0.1 without a password. A freshly
# installed Debian cluster asks for one there, so allow exactly that (first pg_hba line wins).
if ! psql -h 127.0.0.1 -p 5432 -U postgres -w -Atc 'select 1' >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  pg_version="$(ls /etc/postgresql 2>/dev/null | head -n1)"
  pg_hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
  if [ -n "$pg_version" ] && [ -f "$pg_hba" ]; then
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$pg_hba"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload || true
  fi
fi

[ -x /usr/bin/chromium ] || apt_install chromium
# php-cli runs deploy/php/portico-ws-token.php in its test (test/integration/php-token.test.ts).
command -v php >/dev/null || apt_install php-cli
echo "ensure-test-services: redis $(redis-cli -p 6379 ping), postgres $(pg_isready -h 127.0.0.1 -p 5432 >/dev/null && echo up || echo down), chromium $([ -x /usr/bin/chromium ] && echo present || echo missing), php $(command -v php >/dev/null && echo present || echo missing)"
