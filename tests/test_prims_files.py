"""File primitives: FilePlugin named ones and Squeak 2.2's numbered ones (150-163)."""
from __future__ import annotations

import os
import time

import pytest

from conftest import load_heap
from ozvm.memory import specials as S
from ozvm.prims.files import open_file_count
from ozvm.prims.values import int_value
from prims_fake import FAILED, FakeInterp, call

NUMBERS = {"open": 153, "close": 151, "atEnd": 150, "getPosition": 152, "setPosition": 155,
           "size": 157, "read": 154, "write": 158, "delete": 156, "rename": 159,
           "mkdir": 160, "delimitor": 161, "lookup": 162, "rmdir": 163}
NAMES = {"open": "primitiveFileOpen", "close": "primitiveFileClose", "atEnd": "primitiveFileAtEnd",
         "getPosition": "primitiveFileGetPosition", "setPosition": "primitiveFileSetPosition",
         "size": "primitiveFileSize", "read": "primitiveFileRead", "write": "primitiveFileWrite",
         "delete": "primitiveFileDelete", "rename": "primitiveFileRename",
         "mkdir": "primitiveDirectoryCreate", "delimitor": "primitiveDirectoryDelimitor",
         "lookup": "primitiveDirectoryLookup", "rmdir": "primitiveDirectoryDelete"}


@pytest.fixture(params=[("squeak2.2-mini.image", "numbered"), ("squeak2.2-mini.image", "named"),
                        ("pharocandle.image", "named")], ids=lambda p: "-".join(p))
def fs(request, tmp_path, monkeypatch):
    name, kind = request.param
    monkeypatch.chdir(tmp_path)
    vm = FakeInterp(load_heap(name))

    def prim(op, rcvr, *args):
        index = NUMBERS[op] if kind == "numbered" else ("FilePlugin", NAMES[op])
        return call(vm, index, rcvr, *args)
    prim.vm = vm
    return prim


def s(vm, text):
    return vm.heap.new_string(text)


def test_write_read_position_size(fs, tmp_path):
    vm = fs.vm
    h = vm.heap
    before = open_file_count(vm)
    f = fs("open", h.nil, s(vm, "log.txt"), h.true)
    assert f.cls is h.special(S.CLASS_BYTE_ARRAY) and len(f.bytes) == 8
    assert fs("size", h.nil, f) == 0 and fs("atEnd", h.nil, f) is h.true
    assert fs("write", h.nil, f, s(vm, "Hello world"), 1, 5) == 5
    assert fs("write", h.nil, f, s(vm, "xx!"), 3, 1) == 1
    assert fs("getPosition", h.nil, f) == 6 and fs("size", h.nil, f) == 6
    assert fs("setPosition", h.nil, f, 1) is h.nil
    buf = s(vm, "......")
    assert fs("read", h.nil, f, buf, 2, 10) is FAILED          # beyond the buffer
    assert fs("read", h.nil, f, buf, 2, 5) == 5 and bytes(buf.bytes) == b".ello!"
    assert fs("atEnd", h.nil, f) is h.true
    assert fs("read", h.nil, f, buf, 1, 3) == 0
    assert fs("close", h.nil, f) is h.nil
    assert fs("close", h.nil, f) is FAILED                      # closed handles are invalid
    assert fs("size", h.nil, f) is FAILED
    assert open_file_count(vm) == before
    assert (tmp_path / "log.txt").read_bytes() == b"Hello!"
    # reopening read-write keeps the contents; read-only refuses writes
    f = fs("open", h.nil, s(vm, "log.txt"), h.true)
    assert fs("size", h.nil, f) == 6 and fs("getPosition", h.nil, f) == 0
    fs("close", h.nil, f)
    r = fs("open", h.nil, s(vm, "log.txt"), h.false)
    assert fs("write", h.nil, r, s(vm, "x"), 1, 1) is FAILED
    fs("close", h.nil, r)
    assert fs("open", h.nil, s(vm, "missing.txt"), h.false) is FAILED
    assert fs("open", h.nil, s(vm, "."), h.false) is FAILED
    assert fs("size", h.nil, s(vm, "12345678")) is FAILED      # not a handle of this session


def test_names_and_directories(fs, tmp_path):
    vm = fs.vm
    h = vm.heap
    (tmp_path / "a.txt").write_bytes(b"abc")
    assert fs("mkdir", h.nil, s(vm, "sub")) is h.nil and (tmp_path / "sub").is_dir()
    assert fs("mkdir", h.nil, s(vm, "sub")) is FAILED
    assert fs("rename", h.nil, s(vm, "a.txt"), s(vm, "sub/b.txt")) is h.nil
    assert (tmp_path / "sub" / "b.txt").read_bytes() == b"abc"
    assert fs("rename", h.nil, s(vm, "nothing"), s(vm, "x")) is FAILED
    entry = fs("lookup", h.nil, s(vm, str(tmp_path / "sub")), 1)
    name, created, modified, is_dir, size = entry.ptrs
    assert bytes(name.bytes) == b"b.txt" and is_dir is h.false and size == 3
    st = os.stat(tmp_path / "sub" / "b.txt")
    offset = time.localtime(st.st_mtime).tm_gmtoff
    assert int_value(h, modified) == int(st.st_mtime) + offset + 2177452800
    assert fs("lookup", h.nil, s(vm, str(tmp_path / "sub")), 2) is h.nil
    top = fs("lookup", h.nil, s(vm, ""), 1)                      # empty path: current directory
    assert bytes(top.ptrs[0].bytes) == b"sub" and top.ptrs[3] is h.true and top.ptrs[4] == 0
    assert fs("lookup", h.nil, s(vm, str(tmp_path / "nowhere")), 1) is FAILED
    assert fs("delete", h.nil, s(vm, "sub/b.txt")) is h.nil
    assert fs("delete", h.nil, s(vm, "sub/b.txt")) is FAILED
    assert fs("rmdir", h.nil, s(vm, "sub")) is h.nil and not (tmp_path / "sub").exists()
    assert fs("delimitor", h.nil) is h.special(S.CHARACTER_TABLE).ptrs[ord("/")]


def test_word_buffers_count_words(fs, tmp_path):
    vm = fs.vm
    h = vm.heap
    (tmp_path / "w.bin").write_bytes(bytes(range(1, 11)))
    f = fs("open", h.nil, s(vm, "w.bin"), h.false)
    w = h.new_float(0.0)                     # a two-word object
    assert fs("read", h.nil, f, w, 1, 2) == 2
    assert w.words == [0x04030201, 0x08070605]
    assert fs("read", h.nil, f, w, 1, 2) == 0 and fs("getPosition", h.nil, f) == 8
    fs("close", h.nil, f)


def test_numbered_file_primitives_only_without_closures():
    vm = FakeInterp(load_heap("pharocandle.image"))
    assert call(vm, 161, vm.heap.nil) is FAILED
