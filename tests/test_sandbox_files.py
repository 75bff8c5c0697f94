"""Sandboxes against the host's files, with the images' own file code: Squeak 2.2 (its
FileStream and FileDirectory on the numbered primitives 150-163), the oracle copy of it
(the same code on the FilePlugin named primitives) and PharoCandle (PCFile). Each test
hashes the host folder before and after: it must not change."""
from __future__ import annotations

import os
import shutil
import time

import pytest

from conftest import image_path, oracle_path
from ozvm.cli import main
from ozvm.errors import GuestError, OzError
from ozvm.prims.file_policy import FilePolicy
from ozvm.vm import VM
from test_files_policy import tree

SQUEAK = ["squeak2.2-mini.image", "squeak2.2-mini-oracle.image"]


def _image(name):
    return oracle_path(name) if "oracle" in name else image_path(name)


@pytest.fixture
def host(tmp_path):
    """A host folder with a copy of the image under test, a text file and a sub-folder."""
    folder = tmp_path / "host"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha")
    (folder / "sub" / "b.txt").write_bytes(b"beta")
    return folder


def _load(host, name):
    path = host / name
    shutil.copy(_image(name), path)
    vm = VM()
    return vm, vm.load(str(path))


def _value(space, source):
    """The printString of the value of the last statement of source (after its temps)."""
    temps = ""
    if source.startswith("|"):
        end = source.index("|", 1) + 1
        temps, source = source[:end], source[end:]
    body, _, last = source.rpartition(". ")
    code = "%s %s%s(%s) printString" % (temps, body, ". " if body else "", last)
    return space.to_local(space.evaluate(code, timeout_ms=30000))


@pytest.mark.parametrize("name", SQUEAK)
def test_oz_sandbox_cannot_overwrite_its_image(name, host, capsys):
    path = host / name
    shutil.copy(_image(name), path)
    before = tree(host)
    code = main(["sandbox", str(path), "| f | f := FileStream fileNamed: '%s'. "
                 "f nextPutAll: 'PWNED'. f close" % path])
    out = capsys.readouterr().out
    assert tree(host) == before
    assert "sandbox files: overlay in " in out
    assert "open for writing %s: an image file of this VM (never written)" % path in out
    assert "guest error: Message not understood: nextPutAll:" in out    # fileNamed: answered nil
    assert "image file unchanged: yes" in out and "files beside the image unchanged: yes" in out
    assert code == 1


@pytest.mark.parametrize("name", SQUEAK)
@pytest.mark.parametrize("policy", ["host", "read-only", "allow", "overlay"])
def test_no_policy_lets_guest_code_write_its_image(name, policy, host):
    vm, space = _load(host, name)
    if policy != "host":
        space.file_policy = (FilePolicy.allow([str(host)]) if policy == "allow" else
                             FilePolicy.read_only() if policy == "read-only" else FilePolicy.overlay())
    before = tree(host)
    image = host / name
    assert _value(space, "(FileStream fileNamed: '%s') isNil" % image) == "true"
    with pytest.raises(GuestError, match="rename"):
        space.evaluate("(FileDirectory on: '%s') rename: '%s' toBe: 'x.image'" % (host, name),
                       timeout_ms=30000)
    _value(space, "(FileDirectory on: '%s') deleteFileNamed: '%s'" % (host, name))
    assert _value(space, "(FileStream readOnlyFileNamed: '%s') size" % image) == str(image.stat().st_size)
    assert tree(host) == before
    assert {d.reason for d in space.file_denials()} == {"an image file of this VM (never written)"}
    space.discard()


@pytest.mark.parametrize("name", SQUEAK)
def test_sandbox_sees_its_own_changes_and_the_host_folder_does_not_change(name, host):
    vm, original = _load(host, name)
    box = original.copy()
    before = tree(host)
    d = "(FileDirectory on: '%s')" % host
    # create, write, read back
    _value(box, "| f | f := FileStream fileNamed: '%s/new.txt'. f nextPutAll: 'hello'. f close" % host)
    assert _value(box, "(FileStream readOnlyFileNamed: '%s/new.txt') contentsOfEntireFile" % host) == "'hello'"
    # change a host file, delete one, rename one
    _value(box, "| f | f := FileStream fileNamed: '%s/a.txt'. f nextPutAll: 'ALPHA'. f close" % host)
    assert _value(box, "(FileStream readOnlyFileNamed: '%s/a.txt') contentsOfEntireFile" % host) == "'ALPHA'"
    _value(box, "%s deleteFileNamed: 'new.txt'" % d)
    _value(box, "(%s directoryNamed: 'sub') rename: 'b.txt' toBe: 'c.txt'" % d)
    assert _value(box, "%s fileExists: 'new.txt'" % d) == "false"
    assert _value(box, "(%s directoryNamed: 'sub') fileAndDirectoryNames asArray" % d) == "('c.txt' )"
    assert _value(box, "(FileStream readOnlyFileNamed: '%s/sub/c.txt') contentsOfEntireFile" % host) == "'beta'"
    assert _value(box, "(StandardFileStream new open: '%s/sub/b.txt' forWrite: false) isNil" % host) == "true"
    # the host folder and the original space see none of it
    assert tree(host) == before
    assert _value(original, "(FileStream readOnlyFileNamed: '%s/a.txt') contentsOfEntireFile" % host) == "'alpha'"
    assert _value(original, "(%s directoryNamed: 'sub') fileAndDirectoryNames asArray" % d) == "('b.txt' )"
    vm.check_isolation()
    scratch = box.file_policy.scratch
    box.discard()
    assert not os.path.exists(scratch)          # the overlay's temporary folder is gone
    assert tree(host) == before


def test_a_space_cannot_use_another_space_s_file_handle(host):
    vm, a = _load(host, "squeak2.2-mini.image")
    b = vm.load(str(host / "squeak2.2-mini.image"))
    before = tree(host)
    a.evaluate("Smalltalk at: #OzF put: (StandardFileStream new open: '%s/a.txt' forWrite: false)" % host,
               timeout_ms=30000)
    assert _value(a, "(Smalltalk at: #OzF) size") == "5"
    handle = a.to_local(a.evaluate("| f | f := Smalltalk at: #OzF. "
                                   "(f instVarAt: (f class allInstVarNames indexOf: 'fileID')) asArray",
                                   timeout_ms=30000))
    assert len(handle) == 8
    steal = "StandardFileStream new primSize: ((ByteArray new: 8) %s yourself)" % " ".join(
        "at: %d put: %d;" % (i + 1, x) for i, x in enumerate(handle))
    with pytest.raises(GuestError, match="primitive has failed"):      # in b: primitiveFailed
        b.evaluate(steal, timeout_ms=30000)
    assert a.to_local(a.evaluate(steal, timeout_ms=30000)) == 5
    # a copy of a holds the same handle object, but not the file
    box = a.copy()
    with pytest.raises(GuestError, match="primitive has failed"):
        box.evaluate("(Smalltalk at: #OzF) size", timeout_ms=30000)
    assert _value(a, "(Smalltalk at: #OzF) size") == "5"
    vm.check_isolation()
    assert tree(host) == before


def test_check_isolation_sees_a_shared_file(host):
    vm, a = _load(host, "squeak2.2-mini.image")
    b = a.copy()
    a.evaluate("Smalltalk at: #OzF put: (StandardFileStream new open: '%s/a.txt' forWrite: false)" % host,
               timeout_ms=30000)
    vm.check_isolation()
    ta, tb = a.file_table(), b.file_table()
    index = max(ta.open_files)
    tb.open_files[index] = ta.open_files[index]        # as the process-global table was
    with pytest.raises(OzError, match="file descriptor .* belongs to two spaces"):
        vm.check_isolation()
    del tb.open_files[index]
    vm.check_isolation()


def test_pharocandle_sandbox_files(host):
    vm, original = _load(host, "pharocandle.image")
    box = original.copy()
    image = host / "pharocandle.image"
    before = tree(host)
    run = (lambda src: box.evaluate(src, timeout_ms=30000))
    with pytest.raises(GuestError):             # the open fails: fileID is nil, the write fails
        run("PCFile new openReadWrite: '%s'; nextPutAll: 'PWNED'; close" % image)
    run("PCFile new openReadWrite: '%s/log.txt'; nextPutAll: 'logged'; close" % host)
    assert box.to_local(run("| f | f := PCFile new openReadOnly: '%s/log.txt'. f size" % host)) == 6
    assert box.to_local(run("| f | f := PCFile new openReadOnly: '%s/a.txt'. f next: 5" % host)) == "alpha"
    assert tree(host) == before
    assert [d.operation for d in box.file_denials()] == ["open for writing"]
    box.file_policy = FilePolicy.deny()
    with pytest.raises(GuestError):
        run("(PCFile new openReadOnly: '%s/a.txt') size" % host)
    assert [d.reason for d in box.file_denials()][-1] == "no file access (deny)"
    vm.check_isolation()
    box.discard()
    assert tree(host) == before


def test_oz_run_and_eval_take_a_file_policy(host, capsys):
    image = host / "squeak2.2-mini.image"
    shutil.copy(_image("squeak2.2-mini.image"), image)
    before = tree(host)
    assert main(["eval", str(image), "--files", "deny",
                 "(StandardFileStream new open: '%s/a.txt' forWrite: false) isNil" % host]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "true"
    assert "oz eval: 1 file operation(s) denied by the policy (deny)" in captured.err
    write = ("| f | f := FileStream fileNamed: '%s'. f nextPutAll: 'x'. f close. "
             "(FileStream readOnlyFileNamed: '%s') size")
    new = host / "new.txt"
    assert main(["eval", str(image), "--files", "overlay", write % (new, new)]) == 0
    assert capsys.readouterr().out.strip() == "1"
    new = host / "sub" / "new.txt"
    assert main(["eval", str(image), "--files", "allow:%s" % (host / "sub"), write % (new, new)]) == 0
    assert (host / "sub" / "new.txt").read_bytes() == b"x"
    (host / "sub" / "new.txt").unlink()
    assert tree(host) == before
    capsys.readouterr()
    assert main(["sandbox", str(image), "--files", "host",       # the sandbox says what changed
                 "(FileStream fileNamed: '%s/x.txt') nextPutAll: 'x'; close" % host]) == 0
    assert "files beside the image unchanged: NO\n    added x.txt" in capsys.readouterr().out
    (host / "x.txt").unlink()
    assert main(["run", str(image), "--files", "everything"]) == 1
    assert "oz: error: --files everything: not a file policy" in capsys.readouterr().err
    assert main(["sandbox", str(image), "3", "--files", "allow:%s" % (host / "nowhere")]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert tree(host) == before


def _oracle_lines(path):
    """oracle_out.txt without the milliseconds column."""
    with open(path, encoding="latin-1") as f:
        return [tuple(line.split("\t")[:3]) for line in f.read().splitlines()]


def _squeak(folder):
    import subprocess
    from conftest import squeak_vm
    subprocess.run([squeak_vm(), "-vm-display-null", "-vm-sound-null", str(folder / "oracle.image")],
                   cwd=str(folder), stdin=subprocess.DEVNULL, capture_output=True, timeout=120)


def test_a_snapshot_goes_to_a_new_file_and_resumes_as_squeak_vm_s_own(tmp_path, monkeypatch):
    """Primitive 97 under `oz run`: the input image is never overwritten, the snapshot is
    written beside it and answers false, as on squeak-vm; resumed (on squeak-vm or on
    ozvm) it answers true in the process that took it, as squeak-vm's own snapshot does."""
    script = "Smalltalk at: #OzMark put: 42\nSmalltalk snapshotPrimitive\n3 + 4\n"
    runs = {}
    for vm in ("ozvm", "squeak-vm"):
        folder = tmp_path / vm
        folder.mkdir()
        shutil.copy(oracle_path("squeak2.2-mini-oracle.image"), folder / "oracle.image")
        (folder / "oracle_in.txt").write_text(script)
        runs[vm] = folder
    before = tree(runs["ozvm"])
    monkeypatch.chdir(runs["ozvm"])
    assert main(["run", str(runs["ozvm"] / "oracle.image"), "--timeout", "120"]) == 0
    started = time.time()
    _squeak(runs["squeak-vm"])
    ended = time.time()
    expected = [("RESULT", "Smalltalk at: #OzMark put: 42", "42"),
                ("RESULT", "Smalltalk snapshotPrimitive", "false"),
                ("RESULT", "3 + 4", "7"), ("DONE",)]
    assert _oracle_lines(runs["squeak-vm"] / "oracle_out.txt") == expected
    assert _oracle_lines(runs["ozvm"] / "oracle_out.txt") == expected
    after = tree(runs["ozvm"])
    assert after["oracle.image"] == before["oracle.image"]          # the input image: unchanged
    assert set(after) == set(before) | {"oracle_out.txt", "oracle-snapshot.image"}
    # squeak-vm's snapshot kept its input stream's handle, whose session id is the clock's
    # second when that VM started plus at most the milliseconds it ran (see _stale_session)
    session = _stale_session(runs["squeak-vm"] / "oracle.image")
    assert int(started) <= session <= int(ended) + int((ended - started) * 1000) + 1
    # resume each snapshot: it appends to the oracle_out.txt of the folder it was taken in
    again = [("RESULT", "Smalltalk snapshotPrimitive", "true"),     # the input stream opened
             ("ERROR", "Smalltalk snapshotPrimitive", "a primitive has failed")]   # before is gone
    for vm, snapshot in (("squeak-vm", runs["squeak-vm"] / "oracle.image"),
                         ("ozvm", runs["ozvm"] / "oracle-snapshot.image")):
        for runner in ("squeak-vm", "ozvm"):
            out = runs[vm] / "oracle_out.txt"
            seen = len(_oracle_lines(out))
            _resume(snapshot, tmp_path / ("resume-%s-on-%s" % (vm, runner)), runner, monkeypatch)
            if (vm, runner) == ("squeak-vm", "squeak-vm") and _oracle_lines(out)[seen:] != again:
                # the one resume that can start in its snapshot's file session: once the
                # clock is past that session id, no resume can (no speed is assumed)
                while time.time() < session + 1:
                    time.sleep(0.2)
                seen = len(_oracle_lines(out))
                _resume(snapshot, tmp_path / "resume-squeak-vm-on-squeak-vm-again", runner, monkeypatch)
            assert _oracle_lines(out)[seen:] == again, (vm, runner)


def _resume(snapshot, folder, runner, monkeypatch):
    folder.mkdir()
    shutil.copy(snapshot, folder / "oracle.image")
    if runner == "squeak-vm":
        _squeak(folder)
    else:
        monkeypatch.chdir(folder)
        assert main(["run", str(folder / "oracle.image"), "--timeout", "120"]) == 0


def _stale_session(snapshot) -> int:
    """The session id in the handle of the input stream that squeak-vm's snapshot kept open.
    squeak-vm's file handles (an SQFile in a ByteArray, its 32-bit session id first) are
    valid only while that id is the running VM's, which is time(NULL) plus the milliseconds
    since that VM started (a few at that moment). A resume that starts within seconds of the
    snapshot's run can get the same id, take the stale handle for its own and die on it
    (SIGABRT) after its first line: 11 of 25 first resumes did, one after the other. A resume started once the
    clock is past this id cannot: its id is at least its start second."""
    from ozvm.space import execution as X
    from ozvm.space.objectspace import ObjectSpace
    space = ObjectSpace.load(str(snapshot))
    return int(X.print_string(space, "[:id | (id at: 1) + ((id at: 2) bitShift: 8) + ((id at: 3) bitShift: 16) "
                                     "+ ((id at: 4) bitShift: 24)] value: ((StandardFileStream allInstances "
                                     "detect: [:f | '*oracle_in.txt' match: (f instVarAt: 6)]) instVarAt: 7)",
                              timeout=60))


def test_a_copy_of_an_overlaid_space_starts_from_its_view(host):
    vm, a = _load(host, "pharocandle.image")
    a.file_policy = FilePolicy.overlay()
    before = tree(host)

    def write(space, text):
        space.evaluate("PCFile new openReadWrite: '%s/a.txt'; nextPutAll: '%s'; close. nil"
                       % (host, text), timeout_ms=30000)

    def read(space):
        return space.to_local(space.evaluate("| f | f := PCFile new openReadOnly: '%s/a.txt'. "
                                             "f next: 5" % host, timeout_ms=30000))
    write(a, "ALPHA")
    b = a.copy()
    assert b.file_policy.scratch != a.file_policy.scratch
    assert read(b) == "ALPHA"
    write(b, "bravo")
    assert read(a) == "ALPHA" and read(b) == "bravo"
    vm.check_isolation()
    assert tree(host) == before
    for space in (a, b):
        space.discard()


PYPY_SCRIPT = """
import os, sys
from ozvm.vm import VM
from ozvm.prims.file_policy import FilePolicy
host, image = sys.argv[1], sys.argv[2]
vm = VM()
box = vm.load(image).copy()
def value(src):
    return box.to_local(box.evaluate(src, timeout_ms=120000))
print(value("| f | f := FileStream fileNamed: '%s/new.txt'. f nextPutAll: 'hello'. f close. "
            "(FileStream readOnlyFileNamed: '%s/new.txt') contentsOfEntireFile" % (host, host)))
print(value("(FileStream fileNamed: '%s') isNil" % image))
box.file_policy = FilePolicy.deny()
print(value("(StandardFileStream new open: '%s/a.txt' forWrite: false) isNil" % host))
print(";".join(d.reason for d in box.file_denials()))
vm.check_isolation()
"""


def test_file_policies_on_pypy(host):
    """The same code on PyPy 3.9 (Debian's pypy3, installed by setup.sh)."""
    import subprocess
    pypy = shutil.which("pypy3")
    assert pypy, "pypy3 is not installed: run ./setup.sh"
    image = host / "squeak2.2-mini.image"
    shutil.copy(_image("squeak2.2-mini.image"), image)
    before = tree(host)
    src = os.path.dirname(os.path.dirname(os.path.abspath(__import__("ozvm").__file__)))
    out = subprocess.run([pypy, "-c", PYPY_SCRIPT, str(host), str(image)], capture_output=True,
                         text=True, timeout=600, env=dict(os.environ, PYTHONPATH=src))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [
        "hello", "True", "True",
        "an image file of this VM (never written);no file access (deny)"]
    assert tree(host) == before
