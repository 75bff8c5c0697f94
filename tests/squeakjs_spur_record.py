"""Records what SqueakJS (the reference VM for Spur) does with the shared Spur images and
with the images ozvm saves from them, into tests/data/squeakjs_spur.txt.

    python tests/squeakjs_spur_record.py --regenerate

needs SqueakJS exported as ../shared/oracle/squeakjs/README.md says and Node. For each
image it records the sha256 of the file run, SqueakJS's exit code, its stdout and the text
of the files the run wrote, as `run.sh -o -q IMAGE 60` prints them; SqueakJS's own
messages (stderr) are left out. test_interp_spur.py compares ozvm with these records;
for ozvm's saved images the sha256 ties a record to the bytes ozvm writes today.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "squeakjs_spur.txt")
IMAGES = ["spur32-headless.image", "pharocandle-spur64.image", "pharo8-kernel-spur64.image"]


def read_records(path=DATA) -> dict:
    """{(image, 'original' or 'saved by ozvm'): {'sha256', 'rc', 'output'}}."""
    records, current, lines = {}, None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("=== "):
                if current is not None:
                    current["output"] = "".join(lines)
                name, kind, sha, rc = line[4:].rstrip("\n").split("\t")
                current = records[(name, kind)] = {"sha256": sha, "rc": int(rc)}
                lines = []
            elif current is not None and not line.startswith("#"):
                lines.append(line)
    if current is not None:
        current["output"] = "".join(lines)
    return records


def _run_squeakjs(runner, image):
    out = subprocess.run([runner, "-o", "-q", image, "60"], capture_output=True, text=True,
                         timeout=300)
    return out.returncode, out.stdout


def regenerate() -> None:
    sys.path.insert(0, HERE)
    from conftest import IMAGES as FOLDER, ORACLE
    from ozvm.image.formats import read_image, write_image
    runner = os.path.join(ORACLE, "squeakjs", "run.sh")
    out = ["# SqueakJS (40b9d9c5, under Node) on the shared Spur images and on ozvm's saves of them\n",
           "# regenerate: python tests/squeakjs_spur_record.py --regenerate\n",
           "# === IMAGE<TAB>original|saved by ozvm<TAB>sha256 of the file run<TAB>exit code, then its output\n"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in IMAGES:
            original = os.path.join(FOLDER, name)
            saved = os.path.join(tmp, name)
            write_image(read_image(original), saved)
            for kind, path in (("original", original), ("saved by ozvm", saved)):
                with open(path, "rb") as f:
                    sha = hashlib.sha256(f.read()).hexdigest()
                rc, stdout = _run_squeakjs(runner, path)
                out.append("=== %s\t%s\t%s\t%d\n" % (name, kind, sha, rc))
                out.append(stdout if stdout.endswith("\n") or not stdout else stdout + "\n")
    with open(DATA, "w", encoding="utf-8") as f:
        f.write("".join(out))


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        regenerate()
    else:
        print(__doc__)
