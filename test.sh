#!/usr/bin/env bash
# Runs the whole test suite (sets up first if needed). Real images come from ../shared/images
# or $OZ_IMAGES.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/pytest ] && ls /usr/lib/squeak/*/squeakvm >/dev/null 2>&1 || ./setup.sh
exec .venv/bin/pytest -q -n 2 "$@"
