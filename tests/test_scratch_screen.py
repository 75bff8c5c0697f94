"""Scratch 1.4 drawn by ozvm against the same image drawn by squeak-vm under Xvfb
(tests/data/scratch_squeakvm.png, made by tests/scratch_reference.py --regenerate).

ozvm runs the image for 40 M bytecodes (counted) on PyPy (`oz screenshot --bytecodes`): its
startup builds the whole user interface and ends, as on squeak-vm, in the notifier "a
primitive has failed" (SoundRecorder>>primStopRecording: neither VM has a sound device).
Every pixel is the same except in one place: the mouse position readout under the stage
(x 904-1017, y 436-460). It shows the same text on both VMs, but its box is laid out a few
pixels apart; the cause is not found yet (a known difference, bounded by this test).

Then both VMs get a click on the "Looks" button (xdotool on X11; the input device's event
queue on ozvm) and run on: both show the Looks palette. Outside the palette column and the
readout every pixel is the same; inside it the blocks are the same but some lie 1-3 pixels
lower on squeak-vm (the same unexplained layout difference), so the palette is compared by
its purple block pixels (within 10%)."""
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
PALETTE = (0, 150, 214, 766)


def _differences(ours, ref, allowed):
    """(pixels differing outside the `allowed` boxes, inside them)."""
    outside = inside = 0
    for y in range(len(ours)):
        a, b = ours[y], ref[y]
        if a == b:
            continue
        for x in range(len(a) // 3):
            if a[3 * x:3 * x + 3] != b[3 * x:3 * x + 3]:
                if any(x0 <= x <= x1 and y0 <= y <= y1 for (x0, y0, x1, y1) in allowed):
                    inside += 1
                else:
                    outside += 1
    return outside, inside


def _purple(rows):
    """Pixels of the Looks blocks' purple in the palette's upper part."""
    n = 0
    for row in rows[160:345]:
        for x in range(10, 210):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            if b > 150 and r > 100 and g < 110:
                n += 1
    return n


@pytest.mark.slow
def test_scratch_screen_as_on_squeak_vm(tmp_path):
    if not os.path.exists(SCRATCH):
        if os.environ.get("CI"):
            pytest.fail("Scratch.image is missing: ./setup.sh installs the scratch package")
        pytest.skip("Scratch 1.4 is not installed")
    python = shutil.which("pypy3") or sys.executable
    before, after = tmp_path / "scratch.png", tmp_path / "looks.png"
    env = dict(os.environ, PYTHONPATH=SRC)
    r = subprocess.run([python, "-m", "ozvm.cli", "screenshot", SCRATCH, "-o", str(after),
                        "--before", str(before), "--bytecodes", "40000000", "--click", "60,83",
                        "--settle", "20000000"], env=env, capture_output=True, text=True,
                       timeout=3600, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    w, h, ours = read_png(str(before))
    rw, rh, ref = read_png(os.path.join(HERE, "data", "scratch_squeakvm.png"))
    assert (w, h) == (rw, rh) == (1024, 767)
    outside, inside = _differences(ours, ref, [READOUT])
    assert outside == 0, "%d pixels differ outside the mouse readout" % outside
    x0, y0, x1, y1 = READOUT
    assert inside < (x1 - x0 + 1) * (y1 - y0 + 1) // 2
    assert _purple(ours) < 100                 # no Looks palette yet

    _, _, ours2 = read_png(str(after))
    _, _, ref2 = read_png(os.path.join(HERE, "data", "scratch_squeakvm_looks.png"))
    outside, inside = _differences(ours2, ref2, [READOUT, PALETTE])
    assert outside == 0, "%d pixels differ outside the palette and the readout" % outside
    ours_purple, ref_purple = _purple(ours2), _purple(ref2)
    assert ref_purple > 10000
    assert abs(ours_purple - ref_purple) < ref_purple // 10
