"""Images saved by ozvm start on Debian's squeak-vm exactly as the originals do."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import image_path, oracle_path, squeak_vm
from ozvm.space.objectspace import ObjectSpace, Symbol

EXPRESSIONS = """\
3 + 4
100 factorial printString size
#(3 1 2) asSortedCollection asArray
3 foo
(1/3) + (2/3)
1.5e10 printString
(Smalltalk at: #Transcript) class name
Symbol hasInterned: 'ozvmNewSym:' ifTrue: [:s | s]
"""


def run_oracle(image, tmp_path, expressions=EXPRESSIONS):
    squeak_vm()
    exprs = tmp_path / "exprs.txt"
    exprs.write_text(expressions)
    out = subprocess.run([oracle_path("run-oracle"), str(image), str(exprs), "60"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # drop the timing column
    return [line.split("\t")[:3] for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def original_answers(tmp_path_factory):
    return run_oracle(oracle_path("squeak2.2-mini-oracle.image"), tmp_path_factory.mktemp("orig"))


@pytest.mark.parametrize("little", [True, False], ids=["little", "big"])
def test_saved_oracle_image_answers_the_same(original_answers, tmp_path, little):
    assert original_answers[-1] == ["DONE"] and len(original_answers) == 9
    assert original_answers[0] == ["RESULT", "3 + 4", "7"]
    space = ObjectSpace.load(oracle_path("squeak2.2-mini-oracle.image"))
    saved = tmp_path / "saved.image"
    space.save(str(saved), little)
    with open(str(saved), "rb") as f:
        assert f.read(4) == ((6502).to_bytes(4, "little") if little else (6502).to_bytes(4, "big"))
    assert run_oracle(saved, tmp_path) == original_answers


def test_saved_benchmark_oracle_image_answers_the_same(tmp_path):
    original = run_oracle(oracle_path("squeak2.2-benchmark-oracle.image"), tmp_path)
    assert original[0] == ["RESULT", "3 + 4", "7"] and original[-1] == ["DONE"]
    space = ObjectSpace.load(oracle_path("squeak2.2-benchmark-oracle.image"))
    saved = tmp_path / "saved.image"
    space.save(str(saved), little_endian=False)
    assert run_oracle(saved, tmp_path) == original


def test_new_symbol_is_found_by_guest_code(original_answers, tmp_path):
    """A symbol interned through the membrane is in 2.2's own tables: `Symbol
    hasInterned:ifTrue:` (the guest's lookup) finds it after a save."""
    assert original_answers[7][2] == "false"
    space = ObjectSpace.load(oracle_path("squeak2.2-mini-oracle.image"))
    names = ["ozvmNewSym:", "OzvmGlobal", "ozvm", "+-", "ozvm:with:", "ozvm_x"]
    for n in names:
        space.from_local(Symbol(n))
    saved = tmp_path / "sym.image"
    space.save(str(saved))
    lines = "".join("Symbol hasInterned: '%s' ifTrue: [:s | s]\n" % n for n in names + ["ozvmNotThere"])
    lines += "('ozvm:', 'with:') asSymbol == (Symbol allInstances detect: [:s | s asString = 'ozvm:with:'])\n"
    answers = run_oracle(saved, tmp_path, lines)
    assert [a[2] for a in answers[:-1]] == ["true"] * len(names) + ["false", "true"]


def pharocandle_log(image, folder):
    vm = squeak_vm()
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, "candle.image")
    shutil.copyfile(image, target)
    subprocess.run([vm, "-vm-display-null", "-vm-sound-null", target], cwd=folder,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
    with open(os.path.join(folder, "log.txt"), "rb") as f:
        return f.read().decode("latin-1").replace("\r", "\n").splitlines()


@pytest.mark.parametrize("little", [True, False], ids=["little", "big"])
def test_saved_pharocandle_logs_the_same(tmp_path, little):
    original = pharocandle_log(image_path("pharocandle.image"), str(tmp_path / "orig"))
    assert original[0] == "Welcome to Pharo Candle edition!"
    assert "@" in original[2]
    space = ObjectSpace.load(image_path("pharocandle.image"))
    saved = str(tmp_path / "saved.image")
    space.save(saved, little)
    log = pharocandle_log(saved, str(tmp_path / "saved"))
    assert len(log) == 3
    assert log[0] == original[0] and log[2] == original[2]
    assert "bytecodes/sec" in log[1]
