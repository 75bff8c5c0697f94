"""What a space's file primitives may do to the host's files: its file policy.

Every file and directory primitive (files.py) goes through the space's FileTable, which
asks the space's policy to do the operation on the host. A policy is one of:

    FilePolicy.host()              the host's files as a real VM has them (the default)
    FilePolicy.deny()              no file or directory at all, not even the standard streams
    FilePolicy.read_only(roots)    read anything (under `roots` if given); nothing is written
    FilePolicy.allow(roots)        read and write under the folders `roots` only
    FilePolicy.overlay(scratch)    copy-on-write: the guest reads the host's files and its
                                   own changes; every write, delete, rename and new folder
                                   goes into the folder `scratch` (a fresh temporary folder
                                   when None, removed with the policy); the host's files
                                   never change

An operation a policy refuses raises `Denied` (the table logs it and fails the primitive,
as the C VM fails a file it cannot open); an operation the host's file system refuses
raises OSError (the primitive fails, nothing is logged).

Paths. A guest path is joined to the process's current directory. Where a policy limits
the guest to folders, the path is resolved as the OS would (symlinks and `..` followed:
os.path.realpath) and must fall under the resolved folder: `..`, absolute paths and
symlinks cannot leave it. The overlay keeps a *virtual* tree: a path is normalised
lexically (no `..` is left), and its copy lives at the same path under the scratch folder,
so nothing written can land outside it. Images the space was loaded from are protected by
the table, under every policy (files.FileTable.protect).
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
import weakref


class Denied(Exception):
    """The policy refuses the operation (`reason` says why)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _missing(path) -> OSError:
    return OSError(errno.ENOENT, "no such file", path)


def real_path(path: bytes) -> bytes:
    """The path the OS reaches (symlinks and `..` resolved)."""
    return os.path.realpath(path)


def real_entry(path: bytes) -> bytes:
    """The directory entry `path` names: its folder resolved, its last name kept (so a
    symlink itself, not its target, is what a delete or a rename acts on)."""
    head, tail = os.path.split(path)
    if tail in (b"", b".", b".."):
        return os.path.realpath(path)
    return os.path.join(os.path.realpath(head or b"."), tail)


def lexical(path: bytes) -> bytes:
    """An absolute path with `.`, `..` and repeated slashes removed, without asking the OS."""
    path = os.path.normpath(path)
    while path.startswith(b"//"):
        path = path[1:]
    return path


def within(path: bytes, roots) -> bool:
    for root in roots:
        if path == root or path.startswith(root.rstrip(b"/") + b"/"):
            return True
    return False


def _roots(paths) -> tuple:
    return tuple(real_path(os.path.abspath(os.fsencode(p))) for p in paths)


def _open(path: bytes, write: bool) -> int:
    """Open as the C VM does: read-only, or read-write creating a missing file, never
    truncating; a directory is not a file."""
    if os.path.isdir(path):
        raise OSError(errno.EISDIR, "a directory", path)
    return os.open(path, (os.O_RDWR | os.O_CREAT) if write else os.O_RDONLY, 0o666)


def _stat(path: bytes):
    try:
        return os.stat(path)
    except OSError:
        try:
            return os.lstat(path)
        except OSError:
            return None


def _stat_link(path: bytes):
    try:
        return os.lstat(path)
    except OSError:
        return None


class FilePolicy:
    """What the file primitives may do on the host (see the module docstring). Paths given
    to the operations are absolute (the guest's path joined to the current directory)."""

    name = "host"
    stdio = True            # the host's standard input, output and error
    sockets = False         # ozvm has no socket primitives: none are ever reachable

    # --- constructors -------------------------------------------------------------
    @staticmethod
    def host() -> "FilePolicy":
        return FilePolicy()

    @staticmethod
    def deny() -> "FilePolicy":
        return DenyPolicy()

    @staticmethod
    def read_only(roots=None) -> "FilePolicy":
        return RootedPolicy(roots, writable=False)

    @staticmethod
    def allow(roots) -> "FilePolicy":
        if isinstance(roots, (str, bytes)):
            roots = [roots]
        return RootedPolicy(roots, writable=True)

    @staticmethod
    def overlay(scratch=None, roots=None) -> "FilePolicy":
        return OverlayPolicy(scratch, roots)

    # --- operations (the host's files as they are) ----------------------------------
    def open(self, path: bytes, write: bool) -> int:
        return _open(path, write)

    def delete(self, path: bytes) -> None:
        if os.path.isdir(path):
            raise OSError(errno.EISDIR, "a directory", path)
        os.remove(path)

    def rename(self, old: bytes, new: bytes) -> None:
        os.rename(old, new)

    def mkdir(self, path: bytes) -> None:
        os.mkdir(path)

    def rmdir(self, path: bytes) -> None:
        os.rmdir(path)

    def listdir(self, path: bytes) -> list:
        return os.listdir(path)

    def reach(self, path: bytes, write: bool) -> None:
        """Raise Denied unless the path may be read (or written)."""

    def stat(self, path: bytes):
        """os.stat of a listed entry (lstat for a broken link), None if it vanished."""
        return _stat(path)

    # --- life --------------------------------------------------------------------------
    def for_copy(self) -> "FilePolicy":
        """The policy of a sandbox copy of a space under this one: an overlay (its writes
        never reach the host) for the host's files; the same limits otherwise."""
        return OverlayPolicy(None, None)

    def bind(self, table) -> None:
        """Called when a space's table adopts this policy."""

    def release(self) -> None:
        """Called when the table drops this policy (another one set, the space discarded)."""

    def resources(self) -> list:
        """Host resources this policy holds for one space (check_isolation compares them)."""
        return []

    def describe(self) -> str:
        return self.name

    def __repr__(self):
        return "<FilePolicy %s>" % self.describe()


class DenyPolicy(FilePolicy):
    name = "deny"
    stdio = False

    def _no(self, *args, **kw):
        raise Denied("no file access (deny)")

    open = delete = rename = mkdir = rmdir = listdir = reach = _no

    def for_copy(self):
        return DenyPolicy()


class RootedPolicy(FilePolicy):
    """Read-only (anywhere, or under `roots`) or read-write under `roots` (allow-list)."""

    def __init__(self, roots, writable: bool):
        if writable and not roots:
            raise ValueError("an allow-list needs at least one folder")
        self.roots = _roots(roots) if roots else None
        self.writable = writable
        self.name = "allow" if writable else "read-only"

    def describe(self):
        if self.roots is None:
            return self.name
        return "%s %s" % (self.name, ", ".join(os.fsdecode(r) for r in self.roots))

    def _reach(self, path: bytes, resolved: bytes) -> bytes:
        if self.roots is not None and not within(resolved, self.roots):
            raise Denied("outside the allowed folders (%s)" % self.describe())
        return resolved

    def _read(self, path):
        return self._reach(path, real_path(path))

    def _write(self, path, resolve=real_entry):
        if not self.writable:
            raise Denied("read-only")
        return self._reach(path, resolve(path))

    def open(self, path, write):
        target = self._write(path, real_path) if write else self._read(path)
        return _open(target, write)

    def delete(self, path):
        FilePolicy.delete(self, self._write(path))

    def rename(self, old, new):
        os.rename(self._write(old), self._write(new))

    def mkdir(self, path):
        os.mkdir(self._write(path))

    def rmdir(self, path):
        os.rmdir(self._write(path))

    def listdir(self, path):
        return os.listdir(self._read(path))

    def stat(self, path):
        entry = self._reach(path, real_entry(path))
        target = real_path(path)
        if self.roots is None or within(target, self.roots):
            return _stat(target)
        return _stat_link(entry)             # a link leading out: nothing of its target

    def reach(self, path, write):
        if write:
            self._write(path)
        else:
            self._read(path)

    def for_copy(self):
        if not self.writable:
            return self
        return OverlayPolicy(None, self.roots)


class OverlayPolicy(FilePolicy):
    """Copy-on-write over the host's files (under `roots` if given) into `scratch`.

    The merged view: a path is what the scratch copy has there if it has something,
    else what the host has, unless the guest deleted it (`deleted`, whole subtrees) or
    made a new folder over a deleted one (`opaque`: the host's entries below it are
    hidden)."""

    name = "overlay"

    def __init__(self, scratch=None, roots=None):
        self._owns_scratch = scratch is None
        if scratch is None:
            scratch = tempfile.mkdtemp(prefix="ozvm-overlay-")
        elif not os.path.isdir(scratch):
            os.makedirs(scratch)
        self.scratch = real_path(os.path.abspath(os.fsencode(scratch)))
        self.roots = _roots(roots) if roots else None
        self.deleted: set = set()
        self.opaque: set = set()
        self._owner = None
        self._cleanup = (weakref.finalize(self, shutil.rmtree, self.scratch, True)
                         if self._owns_scratch else None)

    def describe(self):
        text = "overlay in %s" % os.fsdecode(self.scratch)
        if self.roots is not None:
            text += " over %s" % ", ".join(os.fsdecode(r) for r in self.roots)
        return text

    # --- the virtual tree ------------------------------------------------------------
    def _v(self, path: bytes) -> bytes:
        v = lexical(path)
        if within(v, (self.scratch,)) or within(real_path(v), (self.scratch,)):
            raise Denied("the overlay's own folder")
        if self.roots is not None:
            if not within(v, self.roots):
                raise Denied("outside the overlay's folders")
            if os.path.lexists(v) and not within(real_path(v), self.roots):
                raise Denied("outside the overlay's folders (a link)")
        return v

    def _up(self, v: bytes) -> bytes:
        return self.scratch + v

    def _lower_visible(self, v: bytes) -> bool:
        if v in self.deleted:
            return False
        p = v
        while True:
            parent = os.path.dirname(p)
            if parent == p:
                break
            if parent in self.deleted or parent in self.opaque:
                return False
            p = parent
        return os.path.lexists(v)

    def _kind(self, v: bytes):
        """'dir', 'file' or None in the merged view."""
        up = self._up(v)
        if os.path.lexists(up):
            return "dir" if os.path.isdir(up) else "file"
        if self._lower_visible(v):
            if os.path.isdir(v):
                return "dir"
            return "file" if os.path.exists(v) else "link"
        return None

    def _parent_dir(self, v: bytes) -> bytes:
        parent = os.path.dirname(v)
        if self._kind(parent) != "dir":
            raise _missing(parent)
        os.makedirs(self._up(parent), exist_ok=True)
        return parent

    def _names(self, v: bytes) -> list:
        names = []
        up = self._up(v)
        if os.path.isdir(up):
            names = os.listdir(up)
        if v not in self.opaque and self._lower_visible(v) and os.path.isdir(v):
            seen = set(names)
            for name in os.listdir(v):
                child = os.path.join(v, name)
                if name in seen or child in self.deleted or child == self.scratch:
                    continue
                names.append(name)
        return names

    def _forget(self, v: bytes) -> None:
        """The host's entry at v (if any) is gone for the guest."""
        if self._lower_visible(v):
            self.deleted.add(v)
        self.opaque.discard(v)

    # --- operations --------------------------------------------------------------------
    def open(self, path, write):
        v = self._v(path)
        kind = self._kind(v)
        if kind == "dir":
            raise OSError(errno.EISDIR, "a directory", path)
        up = self._up(v)
        if os.path.lexists(up):
            return os.open(up, os.O_RDWR if write else os.O_RDONLY)
        if not write:
            if kind is None:
                raise _missing(path)
            return os.open(v, os.O_RDONLY)
        self._parent_dir(v)
        if kind is not None:                # copy up, then write the copy
            shutil.copyfile(v, up)
        fd = os.open(up, os.O_RDWR | os.O_CREAT, 0o666)
        self.deleted.discard(v)
        return fd

    def delete(self, path):
        v = self._v(path)
        kind = self._kind(v)
        if kind is None:
            raise _missing(path)
        if kind == "dir":
            raise OSError(errno.EISDIR, "a directory", path)
        up = self._up(v)
        if os.path.lexists(up):
            os.remove(up)
        self._forget(v)

    def mkdir(self, path):
        v = self._v(path)
        if self._kind(v) is not None:
            raise OSError(errno.EEXIST, "exists", path)
        self._parent_dir(v)
        os.mkdir(self._up(v))
        if v in self.deleted or os.path.lexists(v):
            self.deleted.discard(v)
            self.opaque.add(v)

    def rmdir(self, path):
        v = self._v(path)
        if self._kind(v) != "dir":
            raise _missing(path)
        if self._names(v):
            raise OSError(errno.ENOTEMPTY, "not empty", path)
        if v == os.path.dirname(v):
            raise OSError(errno.EBUSY, "the root", path)
        up = self._up(v)
        if os.path.isdir(up):
            os.rmdir(up)
        self._forget(v)

    def rename(self, old, new):
        vo, vn = self._v(old), self._v(new)
        kind = self._kind(vo)
        if kind is None:
            raise _missing(old)
        if vo == vn:
            return
        if within(vn, (vo,)):
            raise OSError(errno.EINVAL, "into itself", new)
        self._parent_dir(vn)
        target = self._kind(vn)
        if target == "dir":
            if kind != "dir" or self._names(vn):
                raise OSError(errno.ENOTEMPTY, "a folder is there", new)
            self.rmdir(new)
        elif target is not None:
            if kind == "dir":
                raise OSError(errno.ENOTDIR, "a file is there", new)
            self.delete(new)
        self._copy_up(vo, vn, kind)
        up = self._up(vo)
        if os.path.isdir(up) and not os.path.islink(up):
            shutil.rmtree(up)
        elif os.path.lexists(up):
            os.remove(up)
        self._forget(vo)
        self.deleted.discard(vn)
        if kind == "dir":
            self.opaque.add(vn)

    def _copy_up(self, vo: bytes, vn: bytes, kind: str) -> None:
        """Put the merged view of vo into the scratch copy at vn."""
        src, dst = self._up(vo), self._up(vn)
        if kind != "dir":
            if os.path.lexists(src):
                shutil.copyfile(src, dst)
            else:
                shutil.copyfile(vo, dst)
            return
        os.mkdir(dst)
        for name in self._names(vo):
            child = os.path.join(vo, name)
            self._copy_up(child, os.path.join(vn, name), self._kind(child))

    def listdir(self, path):
        v = self._v(path)
        if self._kind(v) != "dir":
            raise _missing(path)
        return self._names(v)

    def reach(self, path, write):
        self._v(path)

    def stat(self, path):
        v = self._v(path)
        up = self._up(v)
        if os.path.lexists(up):
            return _stat(up)
        return _stat(v) if self._lower_visible(v) else None

    # --- life --------------------------------------------------------------------------
    def bind(self, table):
        owner = self._owner() if self._owner is not None else None
        if owner is not None and owner is not table:
            from ..errors import OzError
            raise OzError("this overlay already belongs to another space (its folder %s); "
                          "give each space its own" % os.fsdecode(self.scratch))
        self._owner = weakref.ref(table)

    def release(self):
        self._owner = None
        if self._cleanup is not None:
            self._cleanup()

    def for_copy(self):
        """A new overlay that starts from this one's view (the scratch folder copied)."""
        twin = OverlayPolicy(None, self.roots)
        shutil.rmtree(twin.scratch)
        shutil.copytree(self.scratch, twin.scratch, symlinks=True)
        twin.deleted = set(self.deleted)
        twin.opaque = set(self.opaque)
        return twin

    def resources(self):
        return [("overlay folder", os.fsdecode(self.scratch))]
