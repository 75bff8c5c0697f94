#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine with Python 3.11: system packages the tests need
# (squeak-vm, the reference VM; pypy3 for benchmarks; scratch for Scratch 1.4's image; chromium and
# chromium-driver for the workbench's browser tests), a venv with ozvm in editable mode
# and the pinned dev tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need=""
ls /usr/lib/squeak/*/squeakvm >/dev/null 2>&1 || need="$need squeak-vm"
command -v pypy3 >/dev/null 2>&1 || need="$need pypy3"
[ -f /usr/share/scratch/Scratch.image ] || need="$need scratch"     # Scratch 1.4: a real GUI image
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || need="$need chromium chromium-driver"   # oz serve's tests
if [ -n "$need" ] && command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi
PY=${PYTHON:-python3}
[ -d .venv ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e ".[dev]"
touch .venv/.set-up                  # test.sh sets up again when pyproject.toml or this file is newer
mkdir -p "$HOME/.local/bin"
ln -sf "$PWD/.venv/bin/oz" "$HOME/.local/bin/oz"
echo "ozvm is set up: run '.venv/bin/oz demo' (or 'oz demo' if ~/.local/bin is on PATH)"
