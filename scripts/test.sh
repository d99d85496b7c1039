#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, starts
# PostgreSQL and Redis on free loopback ports, runs pytest (all markers), and
# stops the servers. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh" --services --tools --browser
export PATH="$ROOT/.tools/bin:$PATH"

export VOXA_TEST_SERVICES_DIR="$(mktemp -d /tmp/voxa-test-services.XXXXXX)"
chmod 755 "$VOXA_TEST_SERVICES_DIR"
eval "$(bash "$ROOT/scripts/test-services.sh" start)"
export PGBIN
trap 'bash "$ROOT/scripts/test-services.sh" stop; rm -rf "$VOXA_TEST_SERVICES_DIR"' EXIT

cd "$ROOT"
mkdir -p test-artifacts
"$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider "$@"
