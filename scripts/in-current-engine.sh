#!/usr/bin/env bash
# Run a command as a learner on the current engine would (labhelpers.current.run): the
# engine's socket at the default path, published ports on 127.0.0.1. Uses this checkout's
# labhelpers without changing the command's environment (PYTHONPATH included).
#   scripts/in-current-engine.sh pytest notebooks/02-*.ipynb --nbval ...
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py="${PY:-$repo/.venv/bin/python}"
exec "$py" -c 'import sys; sys.path.insert(0, sys.argv.pop(1)); from labhelpers.cli import main; sys.exit(main(["engine", "current", "run", "--", *sys.argv[1:]]))' "$repo" "$@"
