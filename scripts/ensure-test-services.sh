#!/usr/bin/env bash
# Makes what the test suite needs available, or stops at once saying what is missing:
# redis-server (the tests spawn their own on free ports; the benchmark uses the machine's on
# 6379), PostgreSQL on 127.0.0.1:5432 that lets user postgres in without a password, and Debian's
# chromium for the browser tests, nginx and Apache (test/e2e/proxy-origin.test.ts runs the deploy/
# snippets in front of a gateway; the test starts its own, never the services).
# Installs missing packages with apt-get (as root).
# Idempotent: on a machine that has it all, it only checks, and changes nothing.
set -euo pipefail

die() { echo "ensure-test-services: $*" >&2; exit 1; }

apt_updated=0
apt_install() {
  [ "$(id -u)" = 0 ] || die "$* missing, and installing it needs root"
  command -v apt-get >/dev/null || die "$* missing, and there is no apt-get to install it with"
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq || die "apt-get update failed"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# ---- packages: one line per tool the tests run, installed only when missing ----
command -v redis-server >/dev/null || apt_install redis-server
command -v pg_ctlcluster >/dev/null && command -v psql >/dev/null || apt_install postgresql postgresql-client
[ -x /usr/bin/chromium ] || apt_install chromium
# php-cli runs deploy/php/portico-ws-token.php in its test (test/integration/php-token.test.ts).
command -v php >/dev/null || apt_install php-cli
[ -x /usr/sbin/nginx ] || apt_install nginx-light
[ -x /usr/sbin/apache2 ] || apt_install apache2

command -v redis-server >/dev/null && command -v redis-cli >/dev/null || die "redis-server/redis-cli not found after installing redis-server"
command -v pg_isready >/dev/null && command -v psql >/dev/null || die "PostgreSQL client tools not found after installing postgresql"
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium not found after installing chromium"
command -v php >/dev/null || die "php not found after installing php-cli"
[ -x /usr/sbin/nginx ] || die "/usr/sbin/nginx not found after installing nginx-light"
[ -x /usr/sbin/apache2 ] || die "/usr/sbin/apache2 not found after installing apache2"

# ---- Redis on 127.0.0.1:6379 ----
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
if ! redis_up; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null \
    || die "could not start redis-server on 127.0.0.1:6379"
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
  redis_up || die "redis-server started but 127.0.0.1:6379 does not answer PING within 5 s (port taken by something else?)"
fi

# ---- PostgreSQL on 127.0.0.1:5432 ----
pg_version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  [ -n "$pg_version" ] || die "PostgreSQL does not answer on 127.0.0.1:5432 and there is no Debian cluster in /etc/postgresql to start"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start \
    || die "could not start PostgreSQL cluster $pg_version/main (see /var/log/postgresql/)"
  for _ in $(seq 1 300); do pg_up && break; sleep 0.1; done
  pg_up || die "PostgreSQL $pg_version/main started but does not accept connections on 127.0.0.1:5432 within 30 s"
fi

# The tests connect as user postgres over 127.0.0.1 without a password. A freshly installed Debian
# cluster asks for one there, so allow exactly that, once (the first matching pg_hba line wins).
pg_login() { psql -h 127.0.0.1 -p 5432 -U postgres -w -Atc 'select 1' >/dev/null 2>&1; }
if ! pg_login; then
  trust_line='host all postgres 127.0.0.1/32 trust'
  pg_hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
  [ -n "$pg_version" ] && [ -f "$pg_hba" ] || die "PostgreSQL refuses user postgres on 127.0.0.1 without a password, and there is no Debian pg_hba.conf to allow it in"
  [ -w "$pg_hba" ] || die "PostgreSQL refuses user postgres on 127.0.0.1 without a password; add '$trust_line' at the top of $pg_hba (needs root)"
  grep -qxF "$trust_line" "$pg_hba" || sed -i "1i $trust_line" "$pg_hba"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload || die "could not reload PostgreSQL $pg_version/main"
  for _ in $(seq 1 50); do pg_login && break; sleep 0.1; done
  pg_login || die "PostgreSQL still refuses user postgres on 127.0.0.1 without a password; $pg_hba has '$trust_line' but an earlier line must match first"
fi

echo "ensure-test-services: redis up, postgres ${pg_version:-?} up (user postgres, trust on 127.0.0.1), chromium, php, nginx and apache present"
