"""The Squeak 2.2 images' screens drawn by SqueakJS, the reference for
tests/test_squeakjs_screen.py (squeak-vm 4.10 fails every copyBits of these images: its
numbered primitive 96 always fails, and the images' fallback ends in `Bad BitBlt arg`).

    python tests/squeakjs_screen.py --regenerate

runs each image (a copy, in a temporary folder) on SqueakJS under Node for BYTECODES
bytecodes (tests/squeakjs_screen.js: SqueakJS without its JIT, with a display that draws
nothing; SqueakJS exported as ../shared/oracle/squeakjs/README.md says, in $SQJS or
/tmp/sqjs) and writes its Display form as tests/data/squeakjs_<image>.png.

By then each image has drawn its world (its startup redraws the 640x480 screen) and waits
for input: the screen does not change between 2 M and 4 M bytecodes on either VM.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "squeakjs_screen.js")
IMAGES = ("squeak2.2-mini.image", "squeak2.2-benchmark.image")
BYTECODES = 2000000


def reference(name: str) -> str:
    return os.path.join(HERE, "data", "squeakjs_%s.png" % name[:-len(".image")])


def squeakjs_rows(image: str, bytecodes: int = BYTECODES):
    """(width, height, depth, RGB rows) of `image`'s Display after `bytecodes` on SqueakJS."""
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    from ozvm.memory.objects import FMT_WORDS, SqObject
    from ozvm.space.screen import Screen
    with tempfile.TemporaryDirectory(prefix="squeakjs-screen-") as work:
        copy = os.path.join(work, os.path.basename(image))
        shutil.copyfile(image, copy)
        out = os.path.join(work, "display.bits")
        subprocess.run(["node", DRIVER, copy, str(bytecodes), out], cwd=work, check=True,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
        with open(out, "rb") as f:
            data = f.read()
    head, body = data.split(b"\n", 1)
    width, height, depth = (int(v) for v in head.split())
    words = list(struct.unpack("<%dI" % (len(body) // 4), body))
    bits = SqObject(None, FMT_WORDS, 0, words=words)
    form = SqObject(None, 1, 0, ptrs=[bits, width, height, depth])
    return width, height, depth, Screen(None, form).rgb_rows()


def regenerate() -> int:
    sys.path.insert(0, HERE)
    from conftest import image_path
    from ozvm.space.screen import encode_png
    for name in IMAGES:
        width, height, depth, rows = squeakjs_rows(image_path(name))
        with open(reference(name), "wb") as f:
            f.write(encode_png(width, height, rows))
        print("%s: %dx%d, depth %d" % (reference(name), width, height, depth))
    return 0


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        sys.exit(regenerate())
    print(__doc__)
