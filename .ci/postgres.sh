#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for tests/test_optimize_storage.py and print its URL.
# Installs Debian's postgresql when no server binaries exist. Safe to run again: a server already running from
# this data directory is reused. The URL goes to stdout (last line); .ci/run exports it, e.g.:
#   export CACHETUNE_TEST_POSTGRES_URL="$(.ci/postgres.sh | tail -n 1)"
# The test fails (not skips) under CI=true when no URL is given and no server can be started.
set -euo pipefail

port="${CACHETUNE_PG_PORT:-54329}"
data="${CACHETUNE_PG_DIR:-/tmp/cachetune-postgres}"
database="cachetune"
user="cachetune"
password="cachetune"

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bin_dir)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q --no-install-recommends postgresql >&2
fi
bin="$(bin_dir)"

# The server refuses to run as root: run it as the postgres user (created by the Debian package).
as_postgres() {
  if [ "$(id -un)" = "postgres" ]; then "$@"; elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@";
  else sudo -u postgres "$@"; fi
}

$sudo mkdir -p "$data"
$sudo chown postgres:postgres "$data"
$sudo chmod 700 "$data"
if [ ! -f "$data/PG_VERSION" ]; then
  as_postgres "$bin/initdb" -D "$data" --auth=trust --username=postgres --encoding=UTF8 >&2
fi
if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  as_postgres "$bin/pg_ctl" -D "$data" -w -t 60 -l "$data/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data" start >&2
fi

psql_admin() { as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != "1" ]; then
  psql_admin -c "CREATE ROLE $user LOGIN PASSWORD '$password'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE $database OWNER $user" >&2
fi
echo "postgresql://$user:$password@127.0.0.1:$port/$database"
