#!/usr/bin/env bash
# Install Debian's redis-server and memcached when they are not on PATH (the live tests start their
# own instances on free loopback ports; nothing is started here). Stops any instance the package's
# install scripts started, so no server listens on the default ports during the tests.
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v memcached >/dev/null || missing+=(memcached)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  for service in "${missing[@]}"; do
    $sudo service "$service" stop >/dev/null 2>&1 || true
  done
fi
redis-server --version >&2
memcached -V >&2
