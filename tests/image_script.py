"""What the scripted-copy differential tests share (tests/pharocandle_script.py,
sista_script.py, scratch_oracle.py): each makes a copy of an image that evaluates a list of
expressions as it starts and writes one line an answer, then `DONE`. This module reads the
expressions files, quotes an expression for Smalltalk source, reads the lines a run wrote,
runs a copy on ozvm (`oz run`) or on squeak-vm (SqueakJS: sista_script.py), and is the
command line of each script (`--ozvm` prints ozvm's lines, `--regenerate` rewrites the
expected file from the reference VM's run).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "src"))


def read_expressions(path: str) -> list:
    """One expression a line (surrounding blanks removed); blank lines and lines starting
    with `"` are skipped. A tab is refused: it separates the fields of an answer line."""
    out = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('"'):
                if "\t" in line:
                    raise ValueError("expression contains a tab: %r" % line)
                out.append(line)
    return out


def quote(text: str) -> str:
    """`text` as a Smalltalk string literal."""
    return "'" + text.replace("'", "''") + "'"


def split_lines(text: str) -> list:
    """The lines of a text a guest wrote (CR, LF or CR LF ends), without the empty tail."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def read_expected(path: str) -> list:
    """The lines of a recorded answers file (tests/data/*_expected.txt), its `#` comment lines
    left out."""
    with open(path, encoding="latin-1") as f:
        return [line.rstrip("\n") for line in f if not line.startswith("#")]


def read_lines(path: str) -> list:
    """The lines of a file a guest wrote (split_lines); [] when there is no such file."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return split_lines(f.read().decode("latin-1"))


def run_squeak(image: str, results: str, timeout: float) -> list:
    """Run `image` headless on squeak-vm in its folder (cut short after `timeout` seconds):
    the lines of the file `results` it wrote there."""
    from conftest import squeak_vm
    folder = os.path.dirname(os.path.abspath(image))
    try:
        subprocess.run([squeak_vm(), "-vm-display-null", "-vm-sound-null", os.path.basename(image)],
                       cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    return read_lines(os.path.join(folder, results))


def run_ozvm(image: str, results: str, timeout: float, python: str = sys.executable):
    """(the lines of the file `results` it wrote, the completed process) of `oz run IMAGE`
    in the image's folder."""
    folder = os.path.dirname(os.path.abspath(image))
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.run([python, "-m", "ozvm.cli", "run", os.path.basename(image),
                           "--timeout", str(int(timeout))],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout + 60)
    return read_lines(os.path.join(folder, results)), proc


def main(argv, doc: str, reference: str, make, run_reference, run_oz, expected: str,
         header=None, timeout: float = 300, options=()) -> int:
    """The command line of a script (`doc`: its docstring). `make(folder, args)` writes the
    scripted copy into a temporary folder and answers its path; `run_reference(image,
    timeout)` answers the lines of a run on `reference` (the VM's name), `run_oz(image,
    timeout)` (lines, completed process) of one on ozvm. The lines are printed; with
    --regenerate, a run that ended with DONE is written to `expected`, after `header(image)`
    when given. `options`: more (args, kwargs) for argparse."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--regenerate", action="store_true",
                    help="run %s, rewrite the expected file" % reference)
    ap.add_argument("--ozvm", action="store_true", help="run ozvm (oz run) and print its lines")
    ap.add_argument("--timeout", type=float, default=timeout)
    for a, kw in options:
        ap.add_argument(*a, **kw)
    args = ap.parse_args(argv)
    if SRC not in sys.path:
        sys.path.insert(0, SRC)
    folder = tempfile.mkdtemp(prefix="oz-script-")
    try:
        image = make(folder, args)
        if args.ozvm:
            lines, proc = run_oz(image, args.timeout)
            sys.stderr.write(proc.stderr)
        else:
            lines = run_reference(image, args.timeout)
        for line in lines:
            print(line)
        if args.regenerate:
            if not lines or lines[-1] != "DONE":
                sys.stderr.write("%s did not finish (no DONE); expected file not written\n" % reference)
                return 1
            with open(expected, "w", encoding="latin-1", newline="\n") as f:
                f.write((header(image) if header else "") + "\n".join(lines) + "\n")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0
