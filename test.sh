#!/usr/bin/env bash
# Runs the whole test suite (sets up first if needed). Real images come from ../shared/images
# or $OZ_IMAGES.
set -euo pipefail
cd "$(dirname "$0")"
# set up again when the venv predates the project's dependencies or set-up (a new package)
[ -x .venv/bin/pytest ] && ls /usr/lib/squeak/*/squeakvm >/dev/null 2>&1 \
  && [ .venv/.set-up -nt pyproject.toml ] && [ .venv/.set-up -nt setup.sh ] || ./setup.sh
exec .venv/bin/pytest -q -n 2 "$@"
