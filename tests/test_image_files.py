"""Image input and output: only regular files are read (FIFOs, devices, directories refused
at once, without blocking), header sizes are checked against the file before the object
memory is read; saves refuse devices, FIFOs, directories and the input file (API and CLI),
keep the replaced file's mode (a new file follows the umask), and clean up stale temp files."""
from __future__ import annotations

import os
import signal
import stat
import struct
import subprocess
import sys
import time

import pytest

from conftest import image_path
from ozvm.cli import main
from ozvm.errors import ImageFormatError, OzError
from ozvm.image import files
from ozvm.image.formats import read_image
from ozvm.space.objectspace import ObjectSpace

CANDLE = "pharocandle.image"


class Hang(Exception):
    pass


@pytest.fixture
def alarm():
    """Fail (instead of hanging the suite) when a read blocks."""
    def on_alarm(signum, frame):
        raise Hang()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _candle_bytes():
    with open(image_path(CANDLE), "rb") as f:
        return f.read()


def test_a_fifo_is_refused_without_blocking(tmp_path, alarm):
    fifo = tmp_path / "pipe.image"
    os.mkfifo(fifo)
    with pytest.raises(ImageFormatError, match="is a FIFO, not an image file"):
        read_image(str(fifo))


@pytest.mark.parametrize("path,kind", [("/dev/zero", "a character device"), ("/dev/null", "a character device")])
def test_devices_are_refused(path, kind, alarm):
    if not os.path.exists(path):
        pytest.skip("no %s here" % path)
    with pytest.raises(ImageFormatError, match=kind):
        read_image(path)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ImageFormatError, match="is a directory"):
        read_image(str(tmp_path))


def test_a_sparse_4gb_file_is_refused_without_reading_it(tmp_path, alarm):
    sparse = tmp_path / "sparse.image"
    with open(sparse, "wb") as f:
        f.truncate(4 << 30)
    with pytest.raises(ImageFormatError, match="no known image format"):
        read_image(str(sparse))


def test_a_header_claiming_more_than_the_file_is_refused_before_reading(tmp_path, monkeypatch):
    data = bytearray(_candle_bytes())
    struct.pack_into("<I", data, 8, 0xFFFFFFF0)            # object memory size: ~4 GB
    path = tmp_path / "liar.image"
    with open(path, "wb") as f:
        f.write(data)
        f.truncate(3 << 30)                                 # sparse: 3 GB of nothing
    reads = []
    real_fdopen = os.fdopen

    def counting_fdopen(*a, **k):
        f = real_fdopen(*a, **k)
        real_read = f.read
        f.read = lambda n=-1: reads.append(n) or real_read(n)
        return f
    monkeypatch.setattr(files.os, "fdopen", counting_fdopen)
    with pytest.raises(ImageFormatError, match="truncated image: header says the object memory ends at"):
        read_image(str(path))
    assert reads == [files.HEAD_BYTES]                      # only the head was read


def test_only_the_declared_bytes_are_read(tmp_path):
    data = _candle_bytes()
    path = tmp_path / "padded.image"
    with open(path, "wb") as f:
        f.write(data + b"\xff" * 100000)
    heap = read_image(str(path))
    assert len(heap.all_objects()) == len(read_image(image_path(CANDLE)).all_objects())


# --- saving -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def candle():
    return ObjectSpace.load(image_path(CANDLE))


def test_save_refuses_devices_fifos_directories(candle, tmp_path, alarm):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    for target, kind in ((fifo, "a FIFO"), (tmp_path, "a directory")):
        with pytest.raises(OzError, match="refusing to write over .*: it is %s" % kind):
            candle.save(str(target))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    if os.path.exists("/dev/null"):
        before = os.stat("/dev/null")
        with pytest.raises(OzError, match="a character device"):
            candle.save("/dev/null")
        link = tmp_path / "null.image"
        os.symlink("/dev/null", link)
        with pytest.raises(OzError, match="a character device"):
            candle.save(str(link))
        after = os.stat("/dev/null")
        assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert os.listdir(tmp_path) == ["out.fifo"] or sorted(os.listdir(tmp_path)) == ["null.image", "out.fifo"]


def test_save_refuses_the_input_file_api_and_cli(tmp_path, capsys):
    copy = tmp_path / "in.image"
    copy.write_bytes(_candle_bytes())
    space = ObjectSpace.load(str(copy))
    before = copy.read_bytes()
    with pytest.raises(OzError, match="it is the input image"):
        space.save(str(copy))
    link = tmp_path / "link.image"
    os.symlink(copy, link)
    with pytest.raises(OzError, match="it is the input image"):
        space.save(str(link))
    for target in (copy, link, "/dev/null"):
        assert main(["save", str(copy), str(target)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("oz: error: refusing to ") and "Traceback" not in err
    assert copy.read_bytes() == before and os.path.islink(link)
    assert sorted(os.listdir(tmp_path)) == ["in.image", "link.image"]


def test_save_keeps_the_mode_or_follows_the_umask(candle, tmp_path):
    old = os.umask(0o027)
    try:
        new = tmp_path / "new.image"
        candle.save(str(new))
        assert stat.S_IMODE(os.stat(new).st_mode) == 0o640
        os.chmod(new, 0o604)
        candle.save(str(new))
        assert stat.S_IMODE(os.stat(new).st_mode) == 0o604
        os.umask(0)
        other = tmp_path / "other.image"
        candle.save(str(other))
        assert stat.S_IMODE(os.stat(other).st_mode) == 0o666
    finally:
        os.umask(old)
    # a save through a link replaces the file it points to, the link stays
    link = tmp_path / "link.image"
    os.symlink(new, link)
    candle.save(str(link))
    assert os.path.islink(link) and stat.S_IMODE(os.stat(new).st_mode) == 0o604


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temp_files_are_cleaned_at_the_next_save(candle, tmp_path):
    dead = tmp_path / ("new.image.oz-%d-0123abcd.tmp" % _dead_pid())
    old = tmp_path / ("new.image.oz-%d-4567cdef.tmp" % os.getppid())
    live = tmp_path / ("new.image.oz-%d-89abcdef.tmp" % os.getppid())
    foreign = tmp_path / "notes.tmp"
    for p in (dead, old, live, foreign):
        p.write_bytes(b"partial")
    hour_ago = time.time() - files.STALE_SECONDS - 60
    os.utime(old, (hour_ago, hour_ago))
    candle.save(str(tmp_path / "new.image"))
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, foreign.name, "new.image"])


def test_a_failed_save_leaves_no_temp_file_and_no_target(candle, tmp_path, monkeypatch):
    def broken_replace(a, b):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OzError, match="cannot write .*No space left on device"):
        candle.save(str(tmp_path / "full.image"))
    assert os.listdir(tmp_path) == []


def test_cli_reads_only_regular_files(tmp_path, capsys, alarm):
    fifo = tmp_path / "pipe.image"
    os.mkfifo(fifo)
    for argv in (["info", fifo], ["bench", "load", fifo], ["save", fifo, tmp_path / "o.image"],
                 ["info", tmp_path]):
        assert main([str(a) for a in argv]) == 1
        err = capsys.readouterr().err
        assert "not an image file" in err and "internal error" not in err


def _forged_sparse_image(tmp_path, object_memory: int) -> str:
    """PharoCandle's header claiming an object memory of `object_memory` bytes, in a file
    of exactly that size: the header's first object, then holes (a sparse file)."""
    data = bytearray(_candle_bytes()[:4096])
    header_size = struct.unpack_from("<I", data, 4)[0]
    struct.pack_into("<I", data, 8, object_memory)
    path = tmp_path / "forged.image"
    with open(path, "wb") as f:
        f.write(data)
        f.truncate(header_size + object_memory)
    return str(path)


_PEAK = """
import resource, sys
from ozvm.errors import OzError
from ozvm.image.formats import read_image
limit = None if sys.argv[2] == "none" else int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_image(sys.argv[1], limit)
    outcome = "read"
except OzError as e:
    outcome = type(e).__name__
print(outcome, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def _peak_growth(path: str, limit) -> tuple:
    """(outcome, growth of the peak resident memory in MB) of reading `path` in a fresh
    process: memory counted, not time."""
    out = subprocess.run([sys.executable, "-c", _PEAK, path, "none" if limit is None else str(limit)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    outcome, mb = out.stdout.split()
    return outcome, int(mb)


@pytest.mark.parametrize("limit", [None, 256 << 20])
def test_a_forged_header_matching_a_sparse_file_is_refused_before_reading(tmp_path, limit):
    """A 3 GB sparse file whose header declares exactly its size: its objects could not fit
    the memory limit (or, with none, the process's backstop), so nothing past the head is
    read or allocated."""
    path = _forged_sparse_image(tmp_path, (3 << 30) - 64)
    outcome, mb = _peak_growth(path, limit)
    assert outcome == "MemoryLimitError"
    assert mb < 32


def test_a_forged_sparse_image_within_the_limit_is_read_into_one_buffer(tmp_path):
    """Declared 96 MB (under a 1 GB limit): read once into one buffer, its object memory
    copied once into words, refused at its first (hole) object: the peak grows by about
    twice the declared size, not four times."""
    size = 96 << 20
    path = _forged_sparse_image(tmp_path, size)
    outcome, mb = _peak_growth(path, 1 << 30)
    assert outcome == "ImageFormatError"
    assert mb < 2.5 * (size >> 20)


def test_the_vm_refuses_an_image_past_a_space_limit(tmp_path):
    from ozvm.memory.accounting import MemoryLimitError
    from ozvm.vm import VM
    path = _forged_sparse_image(tmp_path, 64 << 20)
    with pytest.raises(MemoryLimitError, match="would take about"):
        VM(memory_limit=128 << 20).load(path)
    with pytest.raises(ImageFormatError):
        VM(memory_limit=1 << 30).load(path)
