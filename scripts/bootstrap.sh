#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian packages, the venv and the
# Python packages, and (with --tools) livekit-server and helm built with `go install`.
# Slow artefacts (the llama-cpp-python wheel, the livekit-server binary) are
# cached under ${VOXA_CACHE_DIR:-~/.cache/voxa} so repeated set-ups are fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${VOXA_CACHE_DIR:-$HOME/.cache/voxa}"
VENV="$ROOT/.venv"
LIVEKIT_VERSION="${VOXA_LIVEKIT_VERSION:-v1.13.5}"
HELM_VERSION="${VOXA_HELM_VERSION:-v3.21.4}"  # deploy/helm checks (tests/deploy)
LLAMA_VERSION=0.3.36  # keep in step with pyproject.toml [local]
mkdir -p "$CACHE/wheels" "$CACHE/bin" "$ROOT/.tools/bin"

say() { printf '\033[1m[voxa setup]\033[0m %s\n' "$*" >&2; }

need_apt=()
want_pkg() { dpkg -s "$1" >/dev/null 2>&1 || need_apt+=("$1"); }

want_pkg espeak-ng
want_pkg build-essential
want_pkg cmake
# go_tool NAME PACKAGE VERSION BUILT: `go install` PACKAGE@VERSION once into the
# cache (the binary go names BUILT), linked into .tools/bin/NAME.
go_tool() {
  local name="$1" pkg="$2" version="$3" built="$4" cached="$CACHE/bin/$1-$3" tmp
  if [ ! -x "$cached" ] && command -v go >/dev/null; then
    say "building $name $version with go install (one time)"
    tmp="$(mktemp -d)"
    GOBIN="$tmp" go install "$pkg@$version"
    mv "$tmp/$built" "$cached"
    rm -rf "$tmp"
  fi
  if [ -x "$cached" ]; then
    ln -sf "$cached" "$ROOT/.tools/bin/$name"
  fi
}

for arg in "$@"; do
  if [ "$arg" = "--tools" ]; then
    # livekit-server for voice; helm for the chart checks (tests/deploy)
    go_tool livekit-server github.com/livekit/livekit-server/cmd/server "$LIVEKIT_VERSION" server
    go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" helm
  fi
done
say "ready"
