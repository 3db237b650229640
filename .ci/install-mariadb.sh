#!/usr/bin/env bash
# Installs Debian's mariadb-server for the MySQL/MariaDB tests (MariaDbServer starts its own mariadbd
# on a free loopback port with a private data directory; the package's own service is not used).
set -euo pipefail
if [ -x /usr/sbin/mariadbd ] && [ -x /usr/bin/mariadb-install-db ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "mariadb-server is missing and cannot be installed here (needs root and apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The package's post-install tries to start its service; in a container without an init system that
# is refused (policy-rc.d) and harmless.
apt-get install -y -qq mariadb-server >/dev/null
/usr/sbin/mariadbd --version
