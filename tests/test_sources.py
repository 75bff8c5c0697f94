"""Real method source through the trailer's source pointer (space/sources.py), judged by
squeak-vm both ways: source that the image's own compiler logged to its .changes is read back
by ozvm with the programmer's names, and source logged by ozvm is what the image's own
`getSourceFromFile` answers on squeak-vm."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import oracle_path, squeak_vm
from ozvm.space.objectspace import ObjectSpace
from ozvm.space.sources import read_chunk, set_source_pointer, source_pointer


def run_squeak(folder, expressions: str) -> list:
    """Run the oracle image `folder/oracle.image` (and its .changes) on squeak-vm there,
    answering [kind, expression, printString] per line of oracle_out.txt."""
    (folder / "oracle_in.txt").write_text(expressions)
    subprocess.run([squeak_vm(), "-vm-display-null", "-vm-sound-null", str(folder / "oracle.image")],
                   cwd=str(folder), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
    text = (folder / "oracle_out.txt").read_bytes().decode("latin-1")
    answers = []
    for line in text.split("\n"):
        parts = line.split("\t")
        if parts[0] == "RESULT":        # the printString may hold tabs; the time comes last
            parts = parts[:2] + ["\t".join(parts[2:-1])]
        if line:
            answers.append(parts)
    return answers


def test_trailer_and_chunk_encoding():
    code = bytearray(b"\x70\x7c\x00\x00\x00\x00")
    assert source_pointer(code) == (0, 0)
    set_source_pointer(code, 2, 0x123456)
    assert bytes(code[-4:]) == bytes([0x56, 0x34, 0x12, 253])
    assert source_pointer(code) == (2, 0x123456)
    data = b"junk!\rfoo ^ 'a!!b'! !"
    assert read_chunk(data, 6) == "foo ^ 'a!b'"
    assert read_chunk(data, len(data)) is None


PROBE = "ozProbe2: anArgument | aTemp | aTemp := anArgument + 1. ^ aTemp * 2"


def test_source_logged_by_squeak_is_read_by_ozvm(tmp_path):
    shutil.copy(oracle_path("squeak2.2-mini-oracle.image"), str(tmp_path / "oracle.image"))
    os.chmod(str(tmp_path / "oracle.image"), 0o644)
    (tmp_path / "oracle.changes").write_bytes(b"")
    answers = run_squeak(tmp_path, "\n".join([
        "Smalltalk openSourceFiles",
        "Object compile: '%s' classified: 'oz-probe' withStamp: 'oz 1/1/2000' notifying: nil" % PROBE,
        "(Object compiledMethodAt: #ozProbe2:) getSourceFromFile asString",
        "Smalltalk snapshotPrimitive", ""]))
    assert answers[2] == ["RESULT", "(Object compiledMethodAt: #ozProbe2:) getSourceFromFile asString",
                          "'%s'" % PROBE], answers
    space = ObjectSpace.load(str(tmp_path / "oracle.image"))
    method = space.mirror_on(space.class_named("Object")).compiled_method_at("ozProbe2:")
    assert space.method_source(method) == PROBE
    # the CLI shows it as source, not decompiled (the decompiler would say t1, arg1)
    oz = os.path.join(os.path.dirname(sys.executable), "oz")
    out = subprocess.run([oz, "browse", str(tmp_path / "oracle.image"), "Object>>ozProbe2:"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "source:\n    " + PROBE in out.stdout and "decompiled:" not in out.stdout


SOURCE = ("ozLogged: anArgument\n"
          "\t\"a comment with a bang! in it\"\n"
          "\t| aTemp |\n"
          "\taTemp := anArgument , '!'.\n"
          "\t^ aTemp size")


def test_source_logged_by_ozvm_is_read_by_squeak(tmp_path):
    space = ObjectSpace.load(oracle_path("squeak2.2-mini-oracle.image"))
    assert space.keeps_source_pointers()
    obj = space.class_named("Object")
    method = space.install(obj, SOURCE, "oz-logged")
    assert space.method_source(method) == SOURCE
    space.save(str(tmp_path / "oracle.image"))
    assert (tmp_path / "oracle.changes").exists()
    answers = run_squeak(tmp_path, "\n".join([
        "Smalltalk openSourceFiles",
        "(Object compiledMethodAt: #ozLogged:) getSourceFromFile asString",
        "3 ozLogged: 'ab'", ""]))
    expected = "'%s'" % SOURCE.replace("\n", "\r").replace("'", "''")
    assert answers[1][2] == expected, answers
    assert answers[2] == ["RESULT", "3 ozLogged: 'ab'", "3"]
    # read back by ozvm from the saved pair
    again = ObjectSpace.load(str(tmp_path / "oracle.image"))
    m = again.mirror_on(again.class_named("Object")).compiled_method_at("ozLogged:")
    assert again.method_source(m) == SOURCE


def test_copies_and_images_without_source_pointers(tmp_path):
    from conftest import image_path
    candle = ObjectSpace.load(image_path("pharocandle.image"))
    assert not candle.keeps_source_pointers()
    mini = ObjectSpace.load(oracle_path("squeak2.2-mini-oracle.image"))
    method = mini.install(mini.class_named("Object"), "ozCopied ^ 1", "x")
    from ozvm.space.sandbox import copy_space
    copy = copy_space(mini)
    m = copy.mirror_on(copy.class_named("Object")).compiled_method_at("ozCopied")
    assert copy.method_source(m) == "ozCopied ^ 1"
    assert mini.method_source(method) == "ozCopied ^ 1"
    # a method without a pointer has no source (the decompiler is the fallback)
    plain = mini.mirror_on(mini.class_named("Object")).compiled_method_at("printString")
    assert mini.method_source(plain) is None


def test_debugger_frames_use_the_real_names():
    from ozvm.vm import VM
    space = VM().load(oracle_path("squeak2.2-mini-oracle.image"))
    space.install(space.class_named("Object"),
                  "ozNamed: anArgument | aTemp | aTemp := anArgument + 1. ^ aTemp * 2", "oz")
    p = space.create_process("3 ozNamed: 4", start=False)
    frame = p.step_into()
    assert "ozNamed:" in repr(frame)
    assert [name for name, _ in frame.variables()][:2] == ["anArgument", "aTemp"]
    assert frame.evaluate("anArgument + 10").to_local() == 14
    plain = space.create_process("#(3 1 2) asSortedCollection", start=False)
    f2 = plain.step_into()
    assert all(n.startswith(("arg", "t")) for n, _ in f2.variables())   # no source: decompiled names


EMBEDDED = 'ozEmbedded: x\n\t"a comment the decompiler could not know"\n\t| twice |\n\ttwice := x + x.\n\t^ twice'


@pytest.mark.parametrize("image,root", [("pharocandle.image", "PCObject"),
                                        ("pharocandle-spur64.image", "PCObject"),
                                        ("pharo8-kernel-spur64.image", "Object")])
def test_images_without_source_pointers_keep_it_in_the_method(tmp_path, image, root):
    """Pharo's #EmbeddedSource trailer: the source goes with the method into copies and
    saved images; the bytecodes are those of the method compiled without it."""
    from conftest import image_path
    from ozvm.space.sandbox import copy_space
    from ozvm.space.sources import embedded_source, embedded_trailer, pharo_trailer_size
    space = ObjectSpace.load(image_path(image))
    assert not space.keeps_source_pointers()
    method = space.mirror_on(space.install(space.class_named(root), EMBEDDED, "oz"))
    assert method.trailer() == embedded_trailer(EMBEDDED)
    assert pharo_trailer_size(method.obj.bytes) == len(EMBEDDED) + 2
    assert embedded_source(method.obj.bytes) == EMBEDDED
    plain = space.mirror_on(space.compile(space.class_named(root), EMBEDDED))   # no source kept
    assert method.bytecodes() == plain.bytecodes() and method.end_pc() == plain.end_pc()
    assert space.method_source(plain) is None
    copy = copy_space(space)
    kept = copy.mirror_on(copy.class_named(root)).compiled_method_at("ozEmbedded:")
    assert copy.method_source(kept) == EMBEDDED
    space.save(str(tmp_path / "kept.image"))
    assert sorted(os.listdir(tmp_path)) == ["kept.image"]
    again = ObjectSpace.load(str(tmp_path / "kept.image"))
    kept = again.mirror_on(again.class_named(root)).compiled_method_at("ozEmbedded:")
    assert again.method_source(kept) == EMBEDDED
    assert not space.diff(again)                 # the same methods, bytecodes and literals


def test_an_embedded_trailer_refuses_what_a_byte_string_cannot_hold():
    from ozvm.errors import OzError
    from ozvm.space.sources import embedded_trailer
    with pytest.raises(OzError, match="cannot hold"):
        embedded_trailer('ozWide\n\t"\u2603"\n\t^ 1')
