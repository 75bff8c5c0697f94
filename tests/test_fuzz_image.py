"""Bad input: truncated files, wrong magic, inconsistent headers, pointers outside the
heap, random corruption. Loading must either succeed or raise ImageFormatError naming an
offset: never hang, never raise anything else. Seeded and bounded in CPU time."""
from __future__ import annotations

import os
import random
import signal
import struct

import pytest

from conftest import image_path
from ozvm.errors import ImageFormatError
from ozvm.image.formats import read_image_bytes
from ozvm.space.objectspace import ObjectSpace

SEED = int(os.environ.get("OZ_FUZZ_SEED", "20261124"))
CASES = int(os.environ.get("OZ_FUZZ_CASES", "250"))


def _read(name):
    with open(image_path(name), "rb") as f:
        return f.read()


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def load_or_format_error(data: bytes, seconds: int = 5):
    """Load and open a space on `data`; answer the space or the ImageFormatError. A hang is
    caught by a timer of this process's CPU time (not wall time, which a loaded machine
    stretches): `seconds` of CPU is many times what any of these loads takes."""
    old = signal.signal(signal.SIGVTALRM, _alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        space = ObjectSpace(read_image_bytes(data))
        space.classes()
        space.memory_use()
        return space
    except ImageFormatError as e:
        return e
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """A corrupted copy of an image file (V3, Spur 32 or Spur 64: the header size and the
    word size are read from the file)."""
    buf = bytearray(data)
    hdr = struct.unpack_from("<I", data, 4)[0] if len(data) >= 8 else 64
    hdr = hdr if hdr in (64, 128) else 64
    word = 8 if struct.unpack_from("<I", data, 0)[0] == 68021 else 4
    pack = "<I" if word == 4 else "<Q"
    kind = rng.randrange(6)
    if kind == 0:                                   # truncation
        return bytes(buf[:rng.randrange(len(buf))])
    if kind == 1:                                   # header byte flips
        for _ in range(rng.randint(1, 3)):
            buf[rng.randrange(hdr)] ^= 1 << rng.randrange(8)
    elif kind == 2:                                 # random header word
        i = 4 * rng.randrange(1, hdr // 4 - 6)
        buf[i:i + 4] = struct.pack("<I", rng.getrandbits(32))
    elif kind == 3:                                 # object memory: random words
        for _ in range(rng.randint(1, 8)):
            i = hdr + 4 * rng.randrange((len(buf) - hdr) // 4)
            buf[i:i + 4] = struct.pack("<I", rng.getrandbits(32))
    elif kind == 4:                                 # object memory: bit flips
        for _ in range(rng.randint(1, 16)):
            buf[rng.randrange(hdr, len(buf))] ^= 1 << rng.randrange(8)
    else:                                           # pointer words turned into wild pointers
        for _ in range(rng.randint(1, 4)):
            i = hdr + word * rng.randrange((len(buf) - hdr) // word)
            w = struct.unpack_from(pack, buf, i)[0]
            if not w & (word - 1):
                buf[i:i + word] = struct.pack(pack, (w + word * rng.randrange(1, 1 << 20))
                                              & ((1 << (8 * word)) - word))
    return bytes(buf)


@pytest.mark.parametrize("name,cases", [("pharocandle.image", CASES),
                                        ("squeak2.2-mini.image", CASES // 25),
                                        ("squeak2.2-benchmark.image", CASES // 25),
                                        ("spur32-headless.image", CASES // 3),
                                        ("pharocandle-spur64.image", CASES // 3)])
def test_random_corruptions(name, cases):
    rng = random.Random("%s-%d" % (name, SEED))
    data = _read(name)
    outcomes = {"loaded": 0, "error": 0}
    for n in range(cases):
        bad = mutate(rng, data)
        try:
            result = load_or_format_error(bad)
        except Hang:
            pytest.fail("case %d of %s hangs (seed %d)" % (n, name, SEED))
        except Exception as e:      # anything but ImageFormatError is a reader bug
            raise AssertionError("case %d of %s (seed %d): %s: %s" % (n, name, SEED, type(e).__name__, e))
        if isinstance(result, ImageFormatError):
            outcomes["error"] += 1
            assert result.offset is not None and 0 <= result.offset <= len(bad), str(result)
            assert "offset" in str(result)
        else:
            outcomes["loaded"] += 1
    assert outcomes["error"] > cases // 4 or cases < 20, outcomes


@pytest.mark.parametrize("name", ["pharocandle.image", "spur32-headless.image", "pharocandle-spur64.image"])
def test_truncated_everywhere_in_the_header(name):
    data = _read(name)
    for n in range(0, 160):
        e = load_or_format_error(data[:n])
        assert isinstance(e, ImageFormatError), n


def test_truncated_object_memory_names_the_offset():
    data = _read("pharocandle.image")
    e = load_or_format_error(data[:5000])
    assert isinstance(e, ImageFormatError)
    assert e.offset == 8 and "truncated" in str(e)


def test_wrong_magic():
    data = bytearray(_read("pharocandle.image"))
    data[0:4] = b"\x12\x34\x56\x78"
    e = load_or_format_error(bytes(data))
    assert isinstance(e, ImageFormatError) and e.offset == 0
    assert "version" in str(e)


def test_inconsistent_header_size():
    data = bytearray(_read("pharocandle.image"))
    data[4:8] = struct.pack("<I", 7)
    e = load_or_format_error(bytes(data))
    assert isinstance(e, ImageFormatError) and e.offset == 4


def test_pointer_outside_the_heap():
    data = bytearray(_read("pharocandle.image"))
    old_base = struct.unpack_from("<I", data, 12)[0]
    # the first field of the special objects array (nil) made to point past the heap
    specials = struct.unpack_from("<I", data, 16)[0]
    field = 64 + (specials - old_base) + 4
    data[field:field + 4] = struct.pack("<I", old_base + len(data) + 1000)
    e = load_or_format_error(bytes(data))
    assert isinstance(e, ImageFormatError)
    assert e.offset == field and "does not point at an object" in str(e)


def test_specials_oop_outside_the_heap():
    data = bytearray(_read("pharocandle.image"))
    data[16:20] = struct.pack("<I", 8)
    e = load_or_format_error(bytes(data))
    assert isinstance(e, ImageFormatError) and e.offset == 16


def _structural_mutation(rng, heap):
    """Point a random field of a kernel object (special objects, their classes and
    metaclasses, the class hierarchy roots) at something else."""
    from ozvm.memory.objects import SqObject
    sp = heap.specials
    targets = [sp] + [o for o in sp.ptrs if o.__class__ is SqObject and o.ptrs]
    targets += [o.cls for o in list(targets)] + [o.cls.cls for o in list(targets)]
    targets = [t for t in targets if t.ptrs]
    objs = heap.all_objects()
    for _ in range(rng.randint(1, 3)):
        t = rng.choice(targets)
        i = rng.randrange(len(t.ptrs))
        choice = rng.randrange(5)
        if choice == 0:
            value = rng.randrange(-0x40000000, 0x40000000)
        elif choice == 1:
            value = heap.nil
        elif choice == 2:
            value = t
        else:
            value = rng.choice(objs)
        t.ptrs[i] = value


def _structurally_corrupted(rng, data: bytes):
    """The image file `data` with a structural mutation, or None for a mutation no image
    file can express."""
    from ozvm.image.formats import encode_image
    heap = read_image_bytes(data)
    _structural_mutation(rng, heap)
    try:
        return encode_image(heap)
    except Exception:
        return None


@pytest.mark.parametrize("name,cases,must_fail", [
    ("pharocandle.image", CASES // 6, True), ("squeak2.2-mini.image", CASES // 100, True),
    ("spur32-headless.image", max(CASES // 10, 5), False),
    ("pharocandle-spur64.image", max(CASES // 10, 5), False)])
def test_structural_corruptions(name, cases, must_fail):
    """Well-formed files whose kernel objects make no sense (cycles, integers where
    classes should be...). `must_fail`: some of the (20 or more) cases must be refused."""
    rng = random.Random("structural-%s-%d" % (name, SEED))
    data = _read(name)
    errors = 0
    for n in range(cases):
        bad = _structurally_corrupted(rng, data)
        if bad is None:
            continue
        try:
            result = load_or_format_error(bad)
        except Hang:
            pytest.fail("structural case %d of %s hangs (seed %d)" % (n, name, SEED))
        except Exception as e:
            raise AssertionError("structural case %d of %s (seed %d): %s: %s"
                                 % (n, name, SEED, type(e).__name__, e))
        if isinstance(result, ImageFormatError):
            errors += 1
            assert result.offset is not None, str(result)
    assert errors > 0 or cases < 20 or not must_fail


@pytest.mark.parametrize("image,root,cls,selector,cases", [
    ("pharocandle.image", "PCObject", "PCString", "asSymbol", max(CASES // 4, 20)),
    ("spur32-headless.image", "Object", "Association", "value", 20),
    ("pharocandle-spur64.image", "PCObject", "PCPoint", "x", 20),
])
def test_inspection_of_corrupted_images_fails_cleanly(image, root, cls, selector, cases):
    """Images that load but whose objects make no sense: `oz info/classes/processes/
    browse` either work or stop with an OzError (one clear line), never another exception."""
    import contextlib
    import io
    import types
    from ozvm.errors import OzError
    from ozvm.image.formats import encode_image
    from ozvm.tools import cmd_inspect
    rng = random.Random("inspect-%s-%d" % (image, SEED) if image != "pharocandle.image" else "inspect-%d" % SEED)
    data = _read(image)
    commands = [("info", dict(top=10)), ("classes", dict(pattern=None)), ("processes", {}),
                ("browse", dict(cls=root, selector=None)),
                ("browse", dict(cls=cls, selector=selector))]
    commands += [("browse", dict(cls=None, selector=None, **{query: arg}))
                 for query, arg in (("senders", "printString"), ("senders", "+"), ("implementors", "printOn:"),
                                    ("refs", root), ("hierarchy", cls), ("categories", root))]
    loaded = 0
    for n in range(cases):
        bad = mutate(rng, data) if n % 2 else _structurally_corrupted(rng, data)
        if bad is None:
            continue
        space = load_or_format_error(bad)
        if isinstance(space, ImageFormatError):
            continue
        loaded += 1
        for name, extra in commands:
            args = types.SimpleNamespace(image="corrupted.image", **extra)
            original = cmd_inspect.load
            cmd_inspect.load = lambda path: space
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    getattr(cmd_inspect, "cmd_" + name)(args)
            except OzError:
                pass
            except Exception as e:
                raise AssertionError("case %d (seed %d): oz %s: %s: %s"
                                     % (n, SEED, name, type(e).__name__, e))
            finally:
                cmd_inspect.load = original
        encode_image(space.heap)       # and what loaded can be saved
    assert loaded > 0
