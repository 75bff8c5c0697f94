"""The guest's screen (space/screen.py) and `oz screenshot`: Squeak 2.2 draws its world with
ozvm's BitBlt (2 M bytecodes of startup, counted, not timed)."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib

import pytest

import squeakjs_screen
from conftest import image_path
from ozvm.errors import OzError
from ozvm.space.objectspace import ObjectSpace
from ozvm.space.screen import Screen


def read_png(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB PNG as Screen writes it."""
    with open(path, "rb") as f:
        return decode_png(f.read())


def decode_png(data):
    """read_png of a PNG's bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, bits, color = header[:4]
    assert (bits, color) == (8, 2)
    raw = zlib.decompress(idat)
    stride = 1 + 3 * w
    rows = [raw[y * stride:(y + 1) * stride] for y in range(h)]
    assert all(r[0] == 0 for r in rows)
    return w, h, [r[1:] for r in rows]


@pytest.mark.parametrize("name", squeakjs_screen.IMAGES)
def test_squeak22_world_as_on_squeakjs(tmp_path, name):
    """The image's world after 2 M bytecodes is the one SqueakJS draws after as many,
    pixel for pixel (tests/data/squeakjs_*.png, tests/squeakjs_screen.py --regenerate)."""
    out = tmp_path / "shot.png"
    oz = os.path.join(os.path.dirname(sys.executable), "oz")
    r = subprocess.run([oz, "screenshot", image_path(name), "-o", str(out),
                        "--bytecodes", str(squeakjs_screen.BYTECODES)],
                       capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    w, h, rows = read_png(str(out))
    rw, rh, ref = read_png(squeakjs_screen.reference(name))
    assert (w, h) == (rw, rh) and h == 480
    pixels = b"".join(ref)
    assert 5000 < pixels.count(b"\x00\x00\x00") < w * h // 3     # a drawn world of windows and text
    assert rows == ref


def test_screen_of_a_saved_image_and_errors(tmp_path):
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    screen = Screen(space)
    assert (screen.width, screen.height, screen.depth) == (240, 120, 1)
    rows = screen.rgb_rows()
    assert len(rows) == 120 and all(len(r) == 240 * 3 for r in rows)
    screen.save_png(str(tmp_path / "saved.png"))
    assert read_png(str(tmp_path / "saved.png"))[:2] == (240, 120)
    with pytest.raises(OzError, match="not a regular file"):
        screen.save_png(str(tmp_path))
    candle = ObjectSpace.load(image_path("pharocandle.image"))
    with pytest.raises(OzError):
        Screen(candle)          # PharoCandle has no Display form


def test_depths_and_pixel_orders(tmp_path):
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    heap = space.heap
    from ozvm.memory.objects import SqObject
    bitmap = space.class_named("Bitmap")
    cases = {
        32: ([0xFF102030, 0x00FFFFFF], (b"\x10\x20\x30", b"\xff\xff\xff")),
        16: ([(0x7C00 << 16) | 0x001F], (b"\xff\x00\x00", b"\x00\x00\xff")),
        -16: ([(0x7C00 << 16) | 0x001F], (b"\x00\x00\xff", b"\xff\x00\x00")),
        1: ([0x40000000], (b"\xff\xff\xff", b"\x00\x00\x00")),
        8: ([0x02040000], (b"\xff\xff\xff", b"\xff\x00\x00")),
    }
    for depth, (words, expected) in cases.items():
        bits = SqObject(bitmap, 6, 0, words=list(words))
        form = SqObject(space.class_named("Form"), 1, 0, ptrs=[bits, 2, 1, depth, heap.nil])
        assert Screen(space, form).rgb_rows() == [b"".join(expected)], depth


def test_bench_display_runs():
    if not os.path.exists("/usr/share/scratch/Scratch.image"):
        pytest.skip("Scratch 1.4 is not installed")
    oz = os.path.join(os.path.dirname(sys.executable), "oz")
    r = subprocess.run([oz, "bench", "display", "--repeat", "1", "--frames", "2"],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(" ms") == 10 and "full screen, rule 3" in r.stdout
    assert "Morphic redraw of the whole Scratch.image screen" in r.stdout
    rates = [l.split()[:2] for l in r.stdout.splitlines() if l.endswith(" fps")]
    assert rates == [["all", "2"], ["first", "1"], ["last", "1"]], r.stdout
    assert "(steady state)" in r.stdout


def test_cursor_kept_and_drawn(tmp_path):
    """Squeak 2.2 sets its arrow cursor (primitive 101) early in its startup; the Screen
    shows it (form, hotspot, mouse position) and draws it into the PNG at the mouse point."""
    from ozvm.space import execution
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    interp = execution.interpreter_for(space)
    execution.let_guest_handle_errors(space)
    interp.run(max_bytecodes=100000)
    screen = Screen(space)
    cursor = screen.cursor
    assert cursor is not None and cursor.mask is None
    normal = space.evaluate("Cursor normal bits asArray").to_local()
    assert cursor.bits == normal and cursor.bits[:4] == [0x80000000, 0xC0000000, 0xE0000000, 0xF0000000]
    assert cursor.hotspot == (0, 0) and screen.cursor_position == (0, 0)
    space.input_device().mouse(5, 7)
    assert screen.cursor_position == (5, 7)
    plain = screen.rgb_rows()
    drawn = screen.draw_cursor(plain)
    pixels = cursor.pixels()
    changed = {(x, y) for y in range(screen.height) for x in range(screen.width)
               if plain[y][3 * x:3 * x + 3] != drawn[y][3 * x:3 * x + 3]}
    black = {(5 + x, 7 + y) for y in range(16) for x in range(16) if pixels[y][x] == 1}
    assert changed <= black and (5, 7) in black
    assert all(drawn[y][3 * x:3 * x + 3] == b"\x00\x00\x00" for x, y in black)
    assert len(cursor.rgba()) == 16 * 16 * 4
    screen.save_png(str(tmp_path / "c.png"), cursor=True)
    assert read_png(str(tmp_path / "c.png"))[2] == drawn
