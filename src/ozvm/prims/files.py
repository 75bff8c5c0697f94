"""File primitives: Squeak 2.2's numbered ones (150-163, images without closures only; the
numbers mean other things later) and the FilePlugin named ones, one implementation.

A file handle is a guest ByteArray of 8 bytes: the VM session (4 bytes) and an index into
the host table of open files (4 bytes), both little-endian. A handle of another session
(e.g. saved in an image and read back) or of a closed file is invalid: the primitive fails.
Paths are guest Strings used as they are (bytes), relative paths against the process's
current directory.

Behaviour follows the C VM's Unix file support (sqUnixFile.c / sqFilePluginBasicPrims.c):
- open: read-only, or read-write creating the file when missing and never truncating;
  the position starts at 0; opening a missing file or a directory fails.
- read/write count elements of the buffer (bytes, or 32-bit words for word objects, as
  they are in memory on a little-endian host) and answer how many were transferred;
  writing to a read-only handle fails.
- directory lookup answers #(name creationSeconds modificationSeconds isDirectory size)
  for the index-th entry (1-based, '.' and '..' left out, the order the OS lists them),
  nil past the last one, and fails for a path that is not a readable directory; an empty
  path means the current directory. Times are local-time seconds since 1901.
"""
from __future__ import annotations

import os
import stat as statmod
import struct
import time

from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_WORDS, SqObject
from .base import PrimitiveFailed, named_primitive, raw_primitive, simple_primitive
from .values import (
    boolean, boolean_value, bytes_value, character, integer_object, int_value, small_value,
)

SESSION = int.from_bytes(os.urandom(4), "little") or 1
_HANDLE = struct.Struct("<II")
SQUEAK_EPOCH_OFFSET = 2177452800


class OpenFile:
    __slots__ = ("fd", "writable", "path")

    def __init__(self, fd, writable, path):
        self.fd = fd
        self.writable = writable
        self.path = path


_open_files: dict = {}
_next_index = [1]


def open_file_count() -> int:
    return len(_open_files)


def _path(obj) -> bytes:
    return bytes_value(obj)


def _handle_object(heap, index):
    return SqObject(heap.specials.ptrs[S.CLASS_BYTE_ARRAY], FMT_BYTES, heap.new_hash(),
                    bytes=bytearray(_HANDLE.pack(SESSION, index)))


def _file(handle) -> OpenFile:
    if handle.__class__ is not SqObject or handle.fmt != FMT_BYTES or len(handle.bytes) != 8:
        raise PrimitiveFailed()
    session, index = _HANDLE.unpack(bytes(handle.bytes))
    f = _open_files.get(index)
    if session != SESSION or f is None:
        raise PrimitiveFailed()
    return f


def _nonnegative(heap, obj) -> int:
    value = int_value(heap, obj)
    if value < 0:
        raise PrimitiveFailed()
    return value


# --- operations on open files ----------------------------------------------------------------------

def file_open(interp, rcvr, name, writable):
    path = _path(name)
    write = boolean_value(interp.heap, writable)
    try:
        if os.path.isdir(path):
            raise PrimitiveFailed()
        fd = os.open(path, (os.O_RDWR | os.O_CREAT) if write else os.O_RDONLY, 0o666)
    except OSError:
        raise PrimitiveFailed()
    index = _next_index[0]
    _next_index[0] += 1
    _open_files[index] = OpenFile(fd, write, path)
    return _handle_object(interp.heap, index)


def file_close(interp, rcvr, handle):
    f = _file(handle)
    session, index = _HANDLE.unpack(bytes(handle.bytes))
    del _open_files[index]
    if index in _stdio.values():
        return rcvr                 # the host's standard streams stay open
    try:
        os.close(f.fd)
    except OSError:
        raise PrimitiveFailed()
    return rcvr


_stdio: dict = {}                   # host fd (0, 1, 2) -> index in _open_files


def file_stdio_handles(interp, rcvr):
    """An Array of handles on the host's standard input, output and error."""
    handles = []
    for fd in (0, 1, 2):
        index = _stdio.get(fd)
        if index not in _open_files:
            index = _next_index[0]
            _next_index[0] += 1
            _open_files[index] = OpenFile(fd, fd != 0, b"<stdio>")
            _stdio[fd] = index
        handles.append(_handle_object(interp.heap, index))
    return interp.heap.new_array(handles)


def file_at_end(interp, rcvr, handle):
    f = _file(handle)
    try:
        pos = os.lseek(f.fd, 0, os.SEEK_CUR)
        size = os.fstat(f.fd).st_size
    except OSError:
        raise PrimitiveFailed()
    return boolean(interp.heap, pos >= size)


def file_get_position(interp, rcvr, handle):
    f = _file(handle)
    try:
        return integer_object(interp.heap, os.lseek(f.fd, 0, os.SEEK_CUR))
    except OSError:
        raise PrimitiveFailed()


def file_set_position(interp, rcvr, handle, position):
    f = _file(handle)
    pos = _nonnegative(interp.heap, position)
    try:
        os.lseek(f.fd, pos, os.SEEK_SET)
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def file_size(interp, rcvr, handle):
    f = _file(handle)
    try:
        return integer_object(interp.heap, os.fstat(f.fd).st_size)
    except OSError:
        raise PrimitiveFailed()


def _buffer(array):
    """(element size, byte count) of a bytes or words buffer object."""
    if array.__class__ is SqObject:
        if array.fmt == FMT_BYTES:
            return 1, len(array.bytes)
        if array.fmt == FMT_WORDS:
            return 4, 4 * len(array.words)
    raise PrimitiveFailed()


def file_read(interp, rcvr, handle, array, start, count):
    f = _file(handle)
    heap = interp.heap
    start = _nonnegative(heap, start)
    count = _nonnegative(heap, count)
    unit, nbytes = _buffer(array)
    if start < 1 or (start - 1 + count) * unit > nbytes:
        raise PrimitiveFailed()
    try:
        data = os.read(f.fd, count * unit) if count else b""
    except OSError:
        raise PrimitiveFailed()
    offset = (start - 1) * unit
    if unit == 1:
        array.bytes[offset:offset + len(data)] = data
        return len(data)
    whole = len(data) // 4
    if len(data) % 4:           # keep the file position on an element boundary
        try:
            os.lseek(f.fd, -(len(data) % 4), os.SEEK_CUR)
        except OSError:
            raise PrimitiveFailed()
    words = array.words
    first = offset // 4
    for i in range(whole):
        words[first + i] = int.from_bytes(data[4 * i:4 * i + 4], "little")
    return whole


def file_write(interp, rcvr, handle, array, start, count):
    f = _file(handle)
    heap = interp.heap
    start = _nonnegative(heap, start)
    count = _nonnegative(heap, count)
    unit, nbytes = _buffer(array)
    if not f.writable or start < 1 or (start - 1 + count) * unit > nbytes:
        raise PrimitiveFailed()
    if unit == 1:
        data = bytes(array.bytes[start - 1:start - 1 + count])
    else:
        data = b"".join(w.to_bytes(4, "little") for w in array.words[start - 1:start - 1 + count])
    written = 0
    try:
        while written < len(data):
            n = os.write(f.fd, data[written:])
            if n <= 0:
                break
            written += n
    except OSError:
        raise PrimitiveFailed()
    return written // unit


def file_truncate(interp, rcvr, handle, size):
    f = _file(handle)
    n = _nonnegative(interp.heap, size)
    if not f.writable:
        raise PrimitiveFailed()
    try:
        if os.fstat(f.fd).st_size > n:
            os.ftruncate(f.fd, n)
            if os.lseek(f.fd, 0, os.SEEK_CUR) > n:
                os.lseek(f.fd, n, os.SEEK_SET)
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def file_flush(interp, rcvr, handle):
    _file(handle)              # writes are not buffered by the VM
    return rcvr


# --- operations on names ---------------------------------------------------------------------------------

def file_delete(interp, rcvr, name):
    path = _path(name)
    try:
        if os.path.isdir(path):
            raise PrimitiveFailed()
        os.remove(path)
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def file_rename(interp, rcvr, old, new):
    try:
        os.rename(_path(old), _path(new))
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def directory_create(interp, rcvr, name):
    try:
        os.mkdir(_path(name))
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def directory_delete(interp, rcvr, name):
    try:
        os.rmdir(_path(name))
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def directory_delimitor(interp, rcvr):
    return character(interp.heap, ord(os.sep))


def squeak_time(unix_seconds: float) -> int:
    """Local-time seconds since 1901 for a Unix time (the C VM's convertToSqueakTime)."""
    t = int(unix_seconds)
    return t + time.localtime(t).tm_gmtoff + SQUEAK_EPOCH_OFFSET


_listing = {"path": None, "names": None}


def directory_entries(path: bytes) -> list:
    """The names in a directory, in the order the OS lists them (cached for index walks)."""
    if _listing["path"] != path or _listing["names"] is None:
        _listing["names"] = os.listdir(path or b".")
        _listing["path"] = path
    return _listing["names"]


def directory_lookup(interp, rcvr, name, index):
    heap = interp.heap
    path = _path(name)
    i = small_value(index)
    try:
        if i == 1:
            _listing["names"] = None          # a new walk: list the directory again
        names = directory_entries(path)
    except OSError:
        raise PrimitiveFailed()
    if not 1 <= i <= len(names):
        return heap.nil
    entry = names[i - 1]
    full = os.path.join(path or b".", entry)
    try:
        st = os.stat(full)
    except OSError:
        try:
            st = os.lstat(full)
        except OSError:
            return heap.nil
    is_dir = statmod.S_ISDIR(st.st_mode)
    return heap.new_array([
        heap.new_string(entry),
        integer_object(heap, squeak_time(st.st_ctime)),
        integer_object(heap, squeak_time(st.st_mtime)),
        boolean(heap, is_dir),
        integer_object(heap, 0 if is_dir else st.st_size),
    ])


def directory_set_mac_type_and_creator(interp, rcvr, name, type_code, creator):
    """Mac file types mean nothing on Unix: the C VM answers success."""
    _path(name)
    return rcvr


# --- registration: FilePlugin names, and the old numbers -----------------------------------------------

_NAMED = [
    ("primitiveFileOpen", file_open, 2),
    ("primitiveFileClose", file_close, 1),
    ("primitiveFileAtEnd", file_at_end, 1),
    ("primitiveFileGetPosition", file_get_position, 1),
    ("primitiveFileSetPosition", file_set_position, 2),
    ("primitiveFileSize", file_size, 1),
    ("primitiveFileRead", file_read, 4),
    ("primitiveFileWrite", file_write, 4),
    ("primitiveFileTruncate", file_truncate, 2),
    ("primitiveFileFlush", file_flush, 1),
    ("primitiveFileStdioHandles", file_stdio_handles, 0),
    ("primitiveFileDelete", file_delete, 1),
    ("primitiveFileRename", file_rename, 2),
    ("primitiveDirectoryCreate", directory_create, 1),
    ("primitiveDirectoryDelete", directory_delete, 1),
    ("primitiveDirectoryDelimitor", directory_delimitor, 0),
    ("primitiveDirectoryLookup", directory_lookup, 2),
    ("primitiveDirectorySetMacTypeAndCreator", directory_set_mac_type_and_creator, 3),
]

for _name, _fn, _argc in _NAMED:
    named_primitive("FilePlugin", _name, argc=_argc)(_fn)


_OLD = {
    150: (file_at_end, 1), 151: (file_close, 1), 152: (file_get_position, 1),
    153: (file_open, 2), 154: (file_read, 4), 155: (file_set_position, 2),
    156: (file_delete, 1), 157: (file_size, 1), 158: (file_write, 4),
    159: (file_rename, 2), 160: (directory_create, 1), 161: (directory_delimitor, 0),
    162: (directory_lookup, 2), 163: (directory_delete, 1),
}


def _old_file_primitive(fn, argc):
    """The numbered file primitives exist only for images without closures (Squeak 2.2)."""
    simple = simple_primitive(fn, argc)

    def prim(interp, n):
        return not interp.heap.info.has_closures and simple(interp, n)
    prim.__name__ = "old_" + fn.__name__
    return prim


for _index, (_fn, _argc) in _OLD.items():
    raw_primitive(_index)(_old_file_primitive(_fn, _argc))
