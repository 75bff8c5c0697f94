"""File primitives: Squeak 2.2's numbered ones (150-163, images without closures only; the
numbers mean other things later) and the FilePlugin named ones, one implementation.

Each space has its own FileTable (`interp.files`): its open files, its directory walk, its
file policy (file_policy.py: host, deny, read-only, allow-list, overlay) and the log of
what the policy refused. A file handle is a guest ByteArray of 8 bytes: the table's session
(4 bytes) and an index into the table's open files (4 bytes), both little-endian. A handle
of another space or session (e.g. saved in an image and read back) or of a closed file is
invalid: the primitive fails. Paths are guest Strings used as they are (bytes), relative
paths against the process's current directory. An operation the policy refuses fails the
primitive as one the host refuses does (the guest sees its ordinary error); the images of
the VM's spaces are never written, deleted or renamed, under any policy.

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
import itertools
import struct
import time
from collections import namedtuple

from ..errors import OzError
from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_WORDS, SqObject
from .base import PrimitiveFailed, named_primitive, raw_primitive, simple_primitive
from .file_policy import Denied, DenyPolicy, FilePolicy, real_entry, real_path, within
from .values import (
    boolean, boolean_value, bytes_value, character, integer_object, int_value, small_value,
)

_HANDLE = struct.Struct("<II")
SQUEAK_EPOCH_OFFSET = 2177452800
DENIALS_KEPT = 1000
_sessions = itertools.count(int.from_bytes(os.urandom(4), "little"))   # one per table


class OpenFile:
    __slots__ = ("fd", "writable", "path")

    def __init__(self, fd, writable, path):
        self.fd = fd
        self.writable = writable
        self.path = path


class DeniedOperation(namedtuple("DeniedOperation", "operation path reason")):
    """One file operation a space's policy refused (FileTable.denied)."""

    def __str__(self):
        return "%s %s: %s" % (self.operation, self.path, self.reason)


class FileTable:
    """One space's files: its open files (handles carry this table's own session, so a
    handle of another space, or of an earlier run, is invalid), its directory walk, the
    images it must never write (`protect`), its policy (file_policy.py) and the log of
    what the policy refused (`denied`, the latest DENIALS_KEPT; `denied_count` in all).
    The interpreter of each space has its own (`interp.files`)."""

    def __init__(self, image_path=None):
        self.session = (next(_sessions) & 0xFFFFFFFF) or 1
        self.open_files: dict = {}
        self.next_index = 1
        self.stdio: dict = {}               # host fd (0, 1, 2) -> index in open_files
        self.listing = (None, None)         # (directory, names) of the current lookup walk
        self.protected_paths: set = set()   # resolved paths of image files, never written
        self.protected_ids: set = set()     # their (device, inode): hard links too
        self.more_protected = None          # f() -> paths of the other spaces' images
        self.denied: list = []
        self.denied_count = 0
        self._policy = FilePolicy.host()
        if image_path:
            self.protect(image_path)

    # --- policy --------------------------------------------------------------------
    @property
    def policy(self) -> FilePolicy:
        return self._policy

    @policy.setter
    def policy(self, policy) -> None:
        """A new policy closes the files opened under the old one (their handles fail)."""
        if not isinstance(policy, FilePolicy):
            raise OzError("a file policy is made by FilePolicy.host(), .deny(), .read_only(), "
                          ".allow([...]) or .overlay(folder), not %r" % (policy,))
        if policy is self._policy:
            return
        policy.bind(self)
        self.close_all()
        old, self._policy = self._policy, policy
        old.release()

    def close_all(self) -> None:
        """Close every file of the space (not the host's standard streams)."""
        stdio = set(self.stdio.values())
        for index, f in list(self.open_files.items()):
            if index not in stdio:
                try:
                    os.close(f.fd)
                except OSError:
                    pass
        self.open_files.clear()
        self.stdio.clear()
        self.listing = (None, None)

    def close(self) -> None:
        """The space is gone: close its files and let its policy go (an overlay's own
        temporary folder is removed)."""
        self.close_all()
        self._policy.release()
        self._policy = DenyPolicy()

    # --- protection ------------------------------------------------------------------
    def protect(self, path) -> None:
        """The file at `path` (an image) is never written, deleted or renamed by guest code."""
        real = real_path(os.path.abspath(os.fsencode(path)))
        self.protected_paths.add(real)
        try:
            st = os.stat(real)
            self.protected_ids.add((st.st_dev, st.st_ino))
        except OSError:
            pass

    def _is_protected(self, path: bytes, tree: bool = False) -> bool:
        """Whether the entry at `path` is (or, with tree, holds) a protected image."""
        paths = set(self.protected_paths)
        if self.more_protected is not None:
            for other in self.more_protected():
                paths.add(real_path(os.path.abspath(os.fsencode(other))))
        ids = set(self.protected_ids)
        for p in paths:
            try:
                st = os.stat(p)
                ids.add((st.st_dev, st.st_ino))
            except OSError:
                pass
        for real in {real_path(path), real_entry(path)}:
            if real in paths or (tree and any(within(p, (real,)) for p in paths)):
                return True
            try:
                st = os.stat(real)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in ids:
                return True
        return False

    # --- doing an operation under the policy ---------------------------------------------
    def _deny(self, operation: str, path: bytes, reason: str):
        self.denied_count += 1
        self.denied.append(DeniedOperation(operation, os.fsdecode(path), reason))
        if len(self.denied) > DENIALS_KEPT:
            del self.denied[:len(self.denied) - DENIALS_KEPT]
        raise PrimitiveFailed()

    def _do(self, operation: str, path: bytes, fn, *args, writes=(), tree=False):
        """fn(*args) under the policy; a refusal is logged, and it or a host error fails
        the primitive. `writes`: the paths written (checked against the protected images)."""
        try:
            for target in writes:
                if self._is_protected(target, tree):
                    self._deny(operation, target, "an image file of this VM (never written)")
            return fn(*args)
        except Denied as e:
            self._deny(operation, path, e.reason)
        except (OSError, ValueError):        # ValueError: a NUL byte inside the path
            raise PrimitiveFailed()

    def full_path(self, guest_path: bytes) -> bytes:
        if b"\0" in guest_path:
            raise PrimitiveFailed()
        return os.path.join(os.getcwdb(), guest_path)

    def open(self, guest_path: bytes, write: bool) -> int:
        """Open a file; answer its index in this table."""
        path = self.full_path(guest_path)
        fd = self._do("open for writing" if write else "open", path, self._policy.open,
                      path, write, writes=(path,) if write else ())
        return self._add(OpenFile(fd, write, path))

    def _add(self, f) -> int:
        index = self.next_index
        self.next_index += 1
        self.open_files[index] = f
        return index

    def delete(self, guest_path: bytes) -> None:
        path = self.full_path(guest_path)
        self._do("delete", path, self._policy.delete, path, writes=(path,))

    def rename(self, guest_old: bytes, guest_new: bytes) -> None:
        old, new = self.full_path(guest_old), self.full_path(guest_new)
        self._do("rename to %s" % os.fsdecode(new), old, self._policy.rename, old, new,
                 writes=(old, new), tree=True)

    def mkdir(self, guest_path: bytes) -> None:
        path = self.full_path(guest_path)
        self._do("create folder", path, self._policy.mkdir, path)

    def rmdir(self, guest_path: bytes) -> None:
        path = self.full_path(guest_path)
        self._do("delete folder", path, self._policy.rmdir, path, writes=(path,))

    def entry(self, guest_path: bytes, index: int):
        """(name, stat or None) of the index-th entry (1-based) of a directory, None past
        the last; the names are listed again when a walk starts (index 1)."""
        path = self.full_path(guest_path)
        directory, names = self.listing
        if index == 1 or directory != path or names is None:
            names = self._do("list", path, self._policy.listdir, path)
            self.listing = (path, names)
        if not 1 <= index <= len(names):
            return None
        name = names[index - 1]
        return name, self._do("list", path, self._policy.stat, os.path.join(path, name))

    def save_image(self, path: str, data: bytes) -> str:
        """Write an image file (primitive 97) through the policy, atomically (a temporary
        file beside it, then a rename); never over an image of the VM's spaces: then to
        NAME-snapshot.image (NAME-snapshot-2.image...) beside it. Answer the path written."""
        full = self.full_path(os.fsencode(path))
        stem = full[:-6] if full.endswith(b".image") else full
        target, n = full, 1
        while self._is_protected(target):
            target = stem + (b"-snapshot.image" if n == 1 else b"-snapshot-%d.image" % n)
            n += 1
        tmp = target + b".snapshot.tmp"
        fd = self._do("snapshot", target, self._policy.open, tmp, True, writes=(tmp,))
        try:
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError:
            self._do("snapshot", tmp, self._policy.delete, tmp)
            raise PrimitiveFailed()
        finally:
            os.close(fd)
        self._do("snapshot", target, self._policy.rename, tmp, target, writes=(target,))
        return os.fsdecode(target)

    def reach(self, operation: str, guest_path: bytes, write: bool) -> None:
        """Fail unless the policy lets the guest reach the path (for reading or writing)."""
        path = self.full_path(guest_path)
        self._do(operation, path, self._policy.reach, path, write,
                 writes=(path,) if write else ())

    def stdio_indexes(self) -> list:
        if not self._policy.stdio:
            self._deny("standard streams", b"<stdio>", "no file access (%s)" % self._policy.name)
        indexes = []
        for fd in (0, 1, 2):
            index = self.stdio.get(fd)
            if index not in self.open_files:
                index = self._add(OpenFile(fd, fd != 0, b"<stdio>"))
                self.stdio[fd] = index
            indexes.append(index)
        return indexes

    def descriptor_type(self, fd: int) -> int:
        """FilePlugin's sqFileDescriptorType of the host's standard stream `fd` (0-2): 1 a
        terminal, 2 a pipe, 3 a file, -1 an error. A space has no other host descriptor
        numbers (its files are handles): any other `fd` answers -1, as a closed one does."""
        if not self._policy.stdio:
            self._deny("standard streams", b"<stdio>", "no file access (%s)" % self._policy.name)
        if fd not in (0, 1, 2):
            return -1
        try:
            if os.isatty(fd):
                return 1
            mode = os.fstat(fd).st_mode
        except OSError:
            return -1
        return 2 if statmod.S_ISFIFO(mode) else 3

    def resources(self) -> list:
        """The host resources of this space, for check_isolation: its open file
        descriptors (not the standard streams) and what its policy holds."""
        stdio = set(self.stdio.values())
        out = [("file descriptor", f.fd) for i, f in self.open_files.items() if i not in stdio]
        return out + self._policy.resources()


def open_file_count(interp) -> int:
    return len(interp.files.open_files)


def _path(obj) -> bytes:
    return bytes_value(obj)


def _handle_object(interp, index):
    heap = interp.heap
    return heap.new_bytes(heap.specials.ptrs[S.CLASS_BYTE_ARRAY], _HANDLE.pack(interp.files.session, index))


def _handle_index(interp, handle) -> int:
    if handle.__class__ is not SqObject or handle.fmt != FMT_BYTES or len(handle.bytes) != 8:
        raise PrimitiveFailed()
    session, index = _HANDLE.unpack(bytes(handle.bytes))
    if session != interp.files.session or index not in interp.files.open_files:
        raise PrimitiveFailed()
    return index


def _file(interp, handle) -> OpenFile:
    return interp.files.open_files[_handle_index(interp, handle)]


def _nonnegative(heap, obj) -> int:
    value = int_value(heap, obj)
    if value < 0:
        raise PrimitiveFailed()
    return value


# --- operations on open files ----------------------------------------------------------------------

def file_open(interp, rcvr, name, writable):
    write = boolean_value(interp.heap, writable)
    return _handle_object(interp, interp.files.open(_path(name), write))


def file_close(interp, rcvr, handle):
    files = interp.files
    index = _handle_index(interp, handle)
    f = files.open_files.pop(index)
    if index in files.stdio.values():
        return rcvr                 # the host's standard streams stay open
    try:
        os.close(f.fd)
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def file_stdio_handles(interp, rcvr):
    """An Array of handles on the host's standard input, output and error."""
    return interp.heap.new_array([_handle_object(interp, i) for i in interp.files.stdio_indexes()])


def file_descriptor_type(interp, rcvr, fd):
    """primitiveFileDescriptorType: what a standard stream of the host is (Pharo's Stdio
    asks at startup); fails for an argument that is no SmallInteger."""
    if fd.__class__ is not int:
        raise PrimitiveFailed()
    return interp.files.descriptor_type(fd)


def file_at_end(interp, rcvr, handle):
    f = _file(interp, handle)
    try:
        pos = os.lseek(f.fd, 0, os.SEEK_CUR)
        size = os.fstat(f.fd).st_size
    except OSError:
        raise PrimitiveFailed()
    return boolean(interp.heap, pos >= size)


def file_get_position(interp, rcvr, handle):
    f = _file(interp, handle)
    try:
        return integer_object(interp.heap, os.lseek(f.fd, 0, os.SEEK_CUR))
    except OSError:
        raise PrimitiveFailed()


def file_set_position(interp, rcvr, handle, position):
    f = _file(interp, handle)
    pos = _nonnegative(interp.heap, position)
    try:
        os.lseek(f.fd, pos, os.SEEK_SET)
    except OSError:
        raise PrimitiveFailed()
    return rcvr


def file_size(interp, rcvr, handle):
    f = _file(interp, handle)
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
    f = _file(interp, handle)
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
    f = _file(interp, handle)
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
    f = _file(interp, handle)
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
    _file(interp, handle)              # writes are not buffered by the VM
    return rcvr


# --- operations on names ---------------------------------------------------------------------------------

def file_delete(interp, rcvr, name):
    interp.files.delete(_path(name))
    return rcvr


def file_rename(interp, rcvr, old, new):
    interp.files.rename(_path(old), _path(new))
    return rcvr


def directory_create(interp, rcvr, name):
    interp.files.mkdir(_path(name))
    return rcvr


def directory_delete(interp, rcvr, name):
    interp.files.rmdir(_path(name))
    return rcvr


def directory_delimitor(interp, rcvr):
    return character(interp.heap, ord(os.sep))


def squeak_time(unix_seconds: float) -> int:
    """Local-time seconds since 1901 for a Unix time (the C VM's convertToSqueakTime)."""
    t = int(unix_seconds)
    return t + time.localtime(t).tm_gmtoff + SQUEAK_EPOCH_OFFSET


def directory_lookup(interp, rcvr, name, index):
    heap = interp.heap
    found = interp.files.entry(_path(name), small_value(index))
    if found is None:
        return heap.nil
    entry, st = found
    if st is None:                  # gone since the directory was listed
        return heap.nil
    is_dir = statmod.S_ISDIR(st.st_mode)
    return heap.new_array([
        heap.new_string(entry),
        integer_object(heap, squeak_time(st.st_ctime)),
        integer_object(heap, squeak_time(st.st_mtime)),
        boolean(heap, is_dir),
        integer_object(heap, 0 if is_dir else st.st_size),
    ])


def _mac_code(obj) -> None:
    if obj.__class__ is not SqObject or obj.fmt != FMT_BYTES or len(obj.bytes) != 4:
        raise PrimitiveFailed()


def directory_set_mac_type_and_creator(interp, rcvr, name, type_code, creator):
    """Mac file types mean nothing on Unix: the C VM answers success (a write, for the
    policy)."""
    _mac_code(type_code)
    _mac_code(creator)
    interp.files.reach("set Mac type", _path(name), True)
    return rcvr


def directory_get_mac_type_and_creator(interp, rcvr, name, type_code, creator):
    """Unix files have no Mac type and creator: the C VM answers success, the two
    4-byte strings left as they are."""
    _mac_code(type_code)
    _mac_code(creator)
    interp.files.reach("get Mac type", _path(name), False)
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
    ("primitiveFileDescriptorType", file_descriptor_type, 1),
    ("primitiveFileDelete", file_delete, 1),
    ("primitiveFileRename", file_rename, 2),
    ("primitiveDirectoryCreate", directory_create, 1),
    ("primitiveDirectoryDelete", directory_delete, 1),
    ("primitiveDirectoryDelimitor", directory_delimitor, 0),
    ("primitiveDirectoryLookup", directory_lookup, 2),
    ("primitiveDirectorySetMacTypeAndCreator", directory_set_mac_type_and_creator, 3),
    ("primitiveDirectoryGetMacTypeAndCreator", directory_get_mac_type_and_creator, 3),
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
