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
for arg in "$@"; do
  case "$arg" in
    --services) want_pkg redis-server; want_pkg postgresql ;;
    --browser) want_pkg chromium; want_pkg fonts-dejavu-core ;;
  esac
done
if ((${#need_apt[@]})); then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  say "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY="${VOXA_PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv with $PY"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip wheel
fi

# llama-cpp-python compiles from source (~8 min on 2 cores): build its wheel
# once into the cache, install from there afterwards.
if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  if ! ls "$CACHE"/wheels/llama_cpp_python-$LLAMA_VERSION-*.whl >/dev/null 2>&1; then
    say "building the llama-cpp-python wheel (one time, several minutes)"
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "$VENV/bin/pip" wheel -q --no-deps \
      -w "$CACHE/wheels" "llama-cpp-python==$LLAMA_VERSION"
  fi
fi

stamp="$VENV/.voxa-deps-$(cat "$ROOT/pyproject.toml" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  say "installing Python packages"
  "$VENV/bin/pip" install -q --find-links "$CACHE/wheels" -e "$ROOT[dev,local]"
  rm -f "$VENV"/.voxa-deps-*
  touch "$stamp"
fi

# The web pages' livekit-client bundle, from npm (frontend/), into static assets.
vendor="$ROOT/src/voxa/web/static/vendor/livekit-client.umd.js"
web_stamp="$ROOT/frontend/node_modules/.voxa-$(cat "$ROOT/frontend/package.json" "$ROOT/frontend/package-lock.json" 2>/dev/null | sha1sum | cut -c1-12)"
if command -v npm >/dev/null; then
  if [ ! -f "$web_stamp" ] || [ ! -f "$vendor" ]; then
    say "building web assets (npm ci + copy livekit-client)"
    (cd "$ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build >/dev/null)
    touch "$web_stamp"
  fi
else
  say "npm not found: web pages will work without voice calls"
fi

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
