#!/usr/bin/env bash
# Checks for the OpenStack lab beyond packages. Idempotent; runs as root; no network.
# The lab starts its own PostgreSQL, RabbitMQ and services on loopback ports of its own (test/labs/openstack),
# so the system-wide services these packages may have started are neither needed nor touched.
set -euo pipefail
# PostgreSQL runs as user postgres (initdb refuses root): the package creates it.
id postgres >/dev/null 2>&1 || { echo "openstack.sh: user postgres missing (postgresql-15 not installed?)" >&2; exit 1; }
# Debian's interpreter must have the OpenStack libraries (a python3 earlier on PATH, e.g. pyenv, may not).
/usr/bin/python3 -c 'import nova, keystone, placement, glance' \
  || { echo "openstack.sh: OpenStack Python packages missing (.ci/install.d/openstack.packages)" >&2; exit 1; }
