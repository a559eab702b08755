"""The machine setup script leaves a machine with an engine alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_setup_does_not_install_an_engine_where_one_answers(client):
    done = subprocess.run(["bash", str(ROOT / "scripts" / "setup-system.sh"), "--dry-run"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "docker.io" not in done.stdout
    assert done.stdout.startswith("setup-system: ")
