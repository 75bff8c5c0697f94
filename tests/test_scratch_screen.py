"""Scratch 1.4 drawn by ozvm against the same image drawn by squeak-vm under Xvfb
(tests/data/scratch_squeakvm.png, made by tests/scratch_reference.py --regenerate).

ozvm runs the image for 40 M bytecodes (counted) on PyPy (`oz screenshot --bytecodes`): its
startup builds the whole user interface and ends, as on squeak-vm, in the notifier "a
primitive has failed" (SoundRecorder>>primStopRecording: neither VM has a sound device).
Every pixel is the same except in one place: the mouse position readout under the stage
(x 904-1017, y 436-460). It shows the same text on both VMs, but its box is laid out a few
pixels apart; the cause is not found yet (a known difference, bounded by this test)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from test_screen import read_png

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
SCRATCH = "/usr/share/scratch/Scratch.image"
READOUT = (904, 436, 1017, 460)          # x0, y0, x1, y1 inclusive


@pytest.mark.slow
def test_scratch_screen_as_on_squeak_vm(tmp_path):
    if not os.path.exists(SCRATCH):
        if os.environ.get("CI"):
            pytest.fail("Scratch.image is missing: ./setup.sh installs the scratch package")
        pytest.skip("Scratch 1.4 is not installed")
    python = shutil.which("pypy3") or sys.executable
    out = tmp_path / "scratch.png"
    env = dict(os.environ, PYTHONPATH=SRC)
    r = subprocess.run([python, "-m", "ozvm.cli", "screenshot", SCRATCH, "-o", str(out),
                        "--bytecodes", "40000000"], env=env, capture_output=True, text=True,
                       timeout=1800, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    w, h, ours = read_png(str(out))
    rw, rh, ref = read_png(os.path.join(HERE, "data", "scratch_squeakvm.png"))
    assert (w, h) == (rw, rh) == (1024, 767)
    outside = 0
    inside = 0
    x0, y0, x1, y1 = READOUT
    for y in range(h):
        a, b = ours[y], ref[y]
        if a == b:
            continue
        for x in range(w):
            if a[3 * x:3 * x + 3] != b[3 * x:3 * x + 3]:
                if x0 <= x <= x1 and y0 <= y <= y1:
                    inside += 1
                else:
                    outside += 1
    assert outside == 0, "%d pixels differ outside the mouse readout" % outside
    assert inside < (x1 - x0 + 1) * (y1 - y0 + 1) // 2
