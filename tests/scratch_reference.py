"""Scratch 1.4's screen drawn by squeak-vm, the reference for tests/test_scratch_screen.py.

    python tests/scratch_reference.py --regenerate

starts Xvfb (1024x768x24), runs squeak-vm with its X11 display and no sound on a copy of
/usr/share/scratch/Scratch.image for 40 s, takes the screen with xwd, crops it to the
image's window (1024x767 at the top left: no window manager) with ImageMagick's convert,
and writes it as tests/data/scratch_squeakvm.png; then clicks the "Looks" button with
xdotool, waits 15 s and writes tests/data/scratch_squeakvm_looks.png (Debian packages:
squeak-vm, scratch, xvfb, x11-apps, imagemagick, xdotool).

squeak-vm runs with the plugins ozvm has, i.e. none of its external plugins: its binary is
copied into the work folder with only its X11 display and null sound modules, since the VM
also looks for plugins beside its own binary. With Debian's UnicodePlugin (Pango) loaded,
Scratch's `ScratchTranslator detectRenderPlugin` finds it and `ScratchTranslator
stringExtent:font:` measures labels with Pango (e.g. 'switch to background' in VerdanaBold
10: 121@13 instead of the StrikeFont's 128@12), so its palette blocks and the mouse readout
are laid out a few pixels apart from a VM without that plugin.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "data", "scratch_squeakvm.png")
CLICKED = os.path.join(HERE, "data", "scratch_squeakvm_looks.png")
LOOKS = (60, 83)            # the "Looks" category button
WIDTH, HEIGHT = 1024, 767


def _screen(env) -> bytes:
    xwd = subprocess.run(["xwd", "-root", "-silent"], env=env, capture_output=True, check=True).stdout
    return subprocess.run(["convert", "xwd:-", "-crop", "%dx%d+0+0" % (WIDTH, HEIGHT), "-depth", "8", "rgb:-"],
                          input=xwd, capture_output=True, check=True).stdout


def regenerate() -> int:
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    from ozvm.space.screen import encode_png
    vm = sorted(glob.glob("/usr/lib/squeak/*/squeakvm"))[-1]
    work = tempfile.mkdtemp(prefix="scratch-ref-")
    bare = os.path.join(work, "vm")
    os.mkdir(bare)
    for name in ("squeakvm", "so.vm-display-X11", "so.vm-sound-null"):
        shutil.copy2(os.path.join(os.path.dirname(vm), name), bare)
    vm = os.path.join(bare, "squeakvm")
    xvfb = subprocess.Popen(["Xvfb", ":77", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        shutil.copy("/usr/share/scratch/Scratch.image", os.path.join(work, "s.image"))
        env = dict(os.environ, DISPLAY=":77")
        squeak = subprocess.Popen([vm, "-vm-display-X11", "-vm-sound-null", "s.image"], cwd=work, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(40)
        shots = [_screen(env)]
        subprocess.run(["xdotool", "mousemove", str(LOOKS[0]), str(LOOKS[1]), "click", "1"], env=env, check=True)
        time.sleep(15)
        shots.append(_screen(env))
        squeak.kill()
    finally:
        xvfb.kill()
        shutil.rmtree(work, ignore_errors=True)
    for path, raw in zip((REFERENCE, CLICKED), shots):
        rows = [raw[y * WIDTH * 3:(y + 1) * WIDTH * 3] for y in range(HEIGHT)]
        with open(path, "wb") as f:
            f.write(encode_png(WIDTH, HEIGHT, rows))
    return 0


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        sys.exit(regenerate())
    print(__doc__)
