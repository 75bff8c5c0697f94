"""With CI set, a missing shared images folder fails the suite instead of skipping it."""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _run(tmp_path, ci: bool):
    env = dict(os.environ)
    env["OZ_IMAGES"] = str(tmp_path / "no-such-folder")
    env.pop("CI", None)
    if ci:
        env["CI"] = "1"
    env.pop("PYTEST_XDIST_WORKER", None)
    test = "test_image_roundtrip.py"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", "-x", os.path.join(HERE, test)],
                          cwd=HERE, env=env, capture_output=True, text=True, timeout=120)


def test_missing_images_skip_without_ci(tmp_path):
    r = _run(tmp_path, ci=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "skipped" in r.stdout and "failed" not in r.stdout


def test_missing_images_fail_under_ci(tmp_path):
    r = _run(tmp_path, ci=True)
    assert r.returncode != 0
    assert "CI is set: the real images are required" in r.stdout
