#!/usr/bin/env bash
# The main job: set up what is missing, then `voxa serve` on the embedded
# defaults (SQLite under VOXA_DATA_DIR, in-process store, 127.0.0.1:8000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh" --tools
export PATH="$ROOT/.tools/bin:$PATH"
exec "$ROOT/.venv/bin/voxa" serve "$@"
