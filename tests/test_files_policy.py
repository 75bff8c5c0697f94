"""File policies (prims/file_policy.py) through every file and directory primitive the
shared images have: Squeak 2.2's numbered 150-163 and the FilePlugin named ones (the oracle
images, PharoCandle). Each test hashes the host folder before and after: under deny,
read-only and overlay nothing on the host changes; an allow-list changes only its folder;
the images of the space are never written under any policy."""
from __future__ import annotations

import hashlib
import os

import pytest

from conftest import load_heap
from ozvm.errors import OzError
from ozvm.memory import specials as S
from ozvm.prims.file_policy import FilePolicy
from prims_fake import FAILED, FakeInterp, call
from test_prims_files import NAMES, NUMBERS

NAMES = dict(NAMES, truncate="primitiveFileTruncate", flush="primitiveFileFlush",
             stdio="primitiveFileStdioHandles", setMac="primitiveDirectorySetMacTypeAndCreator",
             getMac="primitiveDirectoryGetMacTypeAndCreator")


def tree(folder) -> dict:
    """Every entry below `folder`: relative path -> sha256 of a file's bytes, or 'dir'."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.relpath(os.path.join(root, d), folder)] = "dir"
        for f in files:
            path = os.path.join(root, f)
            if os.path.islink(path):
                out[os.path.relpath(path, folder)] = "link:" + os.readlink(path)
                continue
            with open(path, "rb") as fh:
                out[os.path.relpath(path, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return out


class Guest:
    """Primitive calls as a guest makes them (numbered for Squeak 2.2, named otherwise)."""

    def __init__(self, image, kind, image_path=None):
        self.vm = FakeInterp(load_heap(image), image_path)
        self.kind = kind
        self.h = self.vm.heap

    def __call__(self, op, *args):
        if self.kind == "numbered" and op in NUMBERS:
            index = NUMBERS[op]
        else:
            index = ("FilePlugin", NAMES[op])
        args = [self.h.new_string(a) if isinstance(a, str) else a for a in args]
        return call(self.vm, index, self.h.nil, *args)

    @property
    def files(self):
        return self.vm.files

    def write(self, path, data, fail_ok=False):
        f = self("open", path, self.h.true)
        if f is FAILED:
            return FAILED
        n = self("write", f, data, 1, len(data))
        self("close", f)
        return n

    def read(self, path):
        f = self("open", path, self.h.false)
        if f is FAILED:
            return FAILED
        size = self("size", f)
        buf = self.h.new_string(" " * size)
        assert self("read", f, buf, 1, size) == size
        self("close", f)
        return bytes(buf.bytes)

    def names(self, path):
        out = []
        while True:
            entry = self("lookup", path, len(out) + 1)
            if entry is FAILED:
                return FAILED
            if entry is self.h.nil:
                return sorted(out)
            out.append(bytes(entry.ptrs[0].bytes).decode())


@pytest.fixture(params=[("squeak2.2-mini.image", "numbered"), ("squeak2.2-mini.image", "named"),
                        ("pharocandle.image", "named")], ids=lambda p: "-".join(p))
def guest(request, tmp_path, monkeypatch):
    """A guest whose current directory is `tmp_path/host` (a.txt, sub/b.txt, the
    'image' mini.image it was loaded from)."""
    host = tmp_path / "host"
    (host / "sub").mkdir(parents=True)
    (host / "a.txt").write_bytes(b"alpha")
    (host / "sub" / "b.txt").write_bytes(b"beta")
    (host / "mini.image").write_bytes(b"IMAGE")
    monkeypatch.chdir(host)
    image, kind = request.param
    return Guest(image, kind, image_path=str(host / "mini.image"))


def every_operation(g, folder):
    """Try each file and directory primitive on the host folder; answer what each did."""
    h = g.h
    out = {}
    out["read a.txt"] = g.read("a.txt")
    out["write a.txt"] = g.write("a.txt", "PWNED")
    out["create new.txt"] = g.write("new.txt", "new")
    f = g("open", "a.txt", h.true)
    out["truncate"] = f if f is FAILED else g("truncate", f, 1)
    out["flush"] = f if f is FAILED else g("flush", f)
    if f is not FAILED:
        g("close", f)
    out["delete a.txt"] = g("delete", "a.txt")
    out["rename sub/b.txt"] = g("rename", "sub/b.txt", "c.txt")
    out["mkdir d"] = g("mkdir", "d")
    out["rmdir sub"] = g("rmdir", "sub")
    out["list ."] = g.names(str(folder))
    out["set Mac type"] = g("setMac", "a.txt", "TEXT", "R*ch")
    out["get Mac type"] = g("getMac", "a.txt", "TEXT", "R*ch")
    out["stdio"] = g("stdio")
    out["delimitor"] = g("delimitor")
    out["write image"] = g.write("mini.image", "PWNED")
    out["delete image"] = g("delete", "mini.image")
    out["rename image"] = g("rename", "mini.image", "moved.image")
    return out


def test_deny_fails_every_file_operation_and_logs_it(guest, tmp_path):
    folder = tmp_path / "host"
    before = tree(folder)
    guest.files.policy = FilePolicy.deny()
    done = every_operation(guest, folder)
    assert done.pop("delimitor") is guest.h.special(S.CHARACTER_TABLE).ptrs[ord("/")]
    assert all(v is FAILED for v in done.values()), done
    assert tree(folder) == before
    ops = [d.operation for d in guest.files.denied]
    assert ops[:3] == ["open", "open for writing", "open for writing"]
    assert {"delete", "create folder", "delete folder", "list", "standard streams"} <= set(ops)
    assert {d.reason for d in guest.files.denied} == {
        "no file access (deny)", "an image file of this VM (never written)"}
    assert guest.files.denied[0].path == str(folder / "a.txt")


def test_read_only_reads_and_writes_nothing(guest, tmp_path):
    folder = tmp_path / "host"
    before = tree(folder)
    guest.files.policy = FilePolicy.read_only()
    done = every_operation(guest, folder)
    assert done.pop("read a.txt") == b"alpha"
    assert done.pop("list .") == ["a.txt", "mini.image", "sub"]
    assert done.pop("get Mac type") is guest.h.nil
    assert done.pop("delimitor") is not FAILED and done.pop("stdio") is not FAILED
    assert all(v is FAILED for v in done.values()), done
    assert tree(folder) == before
    assert {d.reason for d in guest.files.denied} == {
        "read-only", "an image file of this VM (never written)"}


def test_host_policy_is_the_host_except_the_image(guest, tmp_path):
    folder = tmp_path / "host"
    (folder / "link.image").symlink_to(folder / "mini.image")
    os.link(folder / "mini.image", folder / "hard.image")
    done = every_operation(guest, folder)
    assert done["read a.txt"] == b"alpha" and done["create new.txt"] == 3
    assert done["delete a.txt"] is guest.h.nil and done["rename sub/b.txt"] is guest.h.nil
    assert done["mkdir d"] is guest.h.nil and done["rmdir sub"] is guest.h.nil
    for op in ("write image", "delete image", "rename image"):
        assert done[op] is FAILED
    # through a symlink, a hard link, '..', an absolute path, or by moving its folder
    assert guest.write("link.image", "PWNED") is FAILED
    assert guest.write("hard.image", "PWNED") is FAILED
    assert guest.write("d/../mini.image", "PWNED") is FAILED
    assert guest.write(str(folder / "mini.image"), "PWNED") is FAILED
    assert guest("rename", "new.txt", "mini.image") is FAILED
    os.chdir(tmp_path)
    assert guest("rename", "host", "elsewhere") is FAILED
    assert (folder / "mini.image").read_bytes() == b"IMAGE"
    assert guest.read(str(folder / "mini.image")) == b"IMAGE"        # reading is fine
    reasons = {d.reason for d in guest.files.denied}
    assert reasons == {"an image file of this VM (never written)"}
    assert (folder / "c.txt").read_bytes() == b"beta" and not (folder / "a.txt").exists()


def test_allow_list_reaches_its_folder_only(guest, tmp_path):
    folder = tmp_path / "host"
    inside = folder / "sub"
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (inside / "out").symlink_to(tmp_path)                 # links leading outside
    (inside / "s.txt").symlink_to(tmp_path / "secret.txt")
    guest.files.policy = FilePolicy.allow([str(inside)])
    before = tree(tmp_path)
    for path in ("a.txt", str(tmp_path / "secret.txt"), "sub/../a.txt", "sub/out/secret.txt",
                 str(inside / ".." / ".." / "secret.txt"), "sub/s.txt", "sub/out/host/a.txt"):
        assert guest.read(path) is FAILED, path
        assert guest.write(path, "PWNED") is FAILED, path
    assert guest("delete", "sub/out/secret.txt") is FAILED
    assert guest("rename", "sub/b.txt", "sub/out/b.txt") is FAILED
    assert guest("rename", "a.txt", "sub/a.txt") is FAILED
    assert guest("mkdir", "sub/out/d") is FAILED
    assert guest.names(str(tmp_path)) is FAILED
    assert tree(tmp_path) == before
    assert all(d.reason.startswith("outside the allowed folders") for d in guest.files.denied)
    # inside: everything works on the host
    assert guest.read("sub/b.txt") == b"beta"
    assert guest.write("sub/new.txt", "new") == 3 and (inside / "new.txt").read_bytes() == b"new"
    assert guest("rename", "sub/new.txt", "sub/old.txt") is guest.h.nil
    assert guest("mkdir", "sub/d") is guest.h.nil and guest("rmdir", "sub/d") is guest.h.nil
    assert guest("delete", "sub/s.txt") is guest.h.nil      # the link itself, inside
    assert (tmp_path / "secret.txt").read_bytes() == b"secret"
    assert guest.names("sub") == ["b.txt", "old.txt", "out"]


def test_overlay_shows_the_guest_its_changes_and_leaves_the_host_unchanged(guest, tmp_path):
    folder = tmp_path / "host"
    scratch = tmp_path / "scratch"
    guest.files.policy = FilePolicy.overlay(str(scratch))
    before = tree(folder)
    done = every_operation(guest, folder)
    assert done["write image"] is FAILED and done["delete image"] is FAILED
    assert done["rename image"] is FAILED
    assert done["write a.txt"] == 5 and done["create new.txt"] == 3
    assert done["delete a.txt"] is guest.h.nil and done["rename sub/b.txt"] is guest.h.nil
    assert done["mkdir d"] is guest.h.nil and done["rmdir sub"] is guest.h.nil
    assert tree(folder) == before
    g = guest
    # the merged view: a.txt deleted, sub/b.txt moved to c.txt, sub removed, d made
    assert g.names(".") == ["c.txt", "d", "mini.image", "new.txt"]
    assert g.read("a.txt") is FAILED and g.read("sub/b.txt") is FAILED
    assert g.read("c.txt") == b"beta" and g.read("new.txt") == b"new"
    assert g.names("sub") is FAILED and g.names("d") == []
    # a folder deleted and made again is empty; a file written again after its delete is new
    assert g("mkdir", "sub") is g.h.nil and g.names("sub") == []
    assert g.write("a.txt", "again") == 5 and g.read("a.txt") == b"again"
    # renaming a folder moves its merged contents
    assert g.write("d/x.txt", "x") == 1
    assert g("rename", "d", "sub/e") is g.h.nil
    assert g.names("sub/e") == ["x.txt"] and g.read("sub/e/x.txt") == b"x"
    assert g.names("d") is FAILED
    assert g("rmdir", "sub") is FAILED                    # not empty
    assert g("rename", "sub", "sub/e/inside") is FAILED   # into itself
    assert tree(folder) == before
    assert (scratch / str(folder).lstrip("/") / "c.txt").read_bytes() == b"beta"
    # the scratch folder is hidden from the guest
    assert g.read(str(scratch / str(folder).lstrip("/") / "c.txt")) is FAILED
    assert g.names(str(tmp_path)) == ["host"]


def test_a_new_policy_closes_the_files_and_an_overlay_belongs_to_one_space(guest, tmp_path):
    g = guest
    f = g("open", "a.txt", g.h.false)
    g.files.policy = FilePolicy.deny()
    assert g("size", f) is FAILED                         # opened under the old policy
    overlay = FilePolicy.overlay()
    scratch = overlay.scratch
    g.files.policy = overlay
    other = Guest("pharocandle.image", "named")
    with pytest.raises(OzError):
        other.files.policy = overlay
    g.files.close()                                        # the space is discarded
    assert not os.path.exists(scratch)
    with pytest.raises(OzError):
        g.files.policy = "deny"


def test_handles_belong_to_one_space(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"alpha")
    a = Guest("squeak2.2-mini.image", "numbered")
    b = Guest("squeak2.2-mini.image", "numbered")
    fa = a("open", "a.txt", a.h.false)
    fb = b("open", "a.txt", b.h.false)
    assert bytes(fa.bytes)[4:] == bytes(fb.bytes)[4:]     # the same index in both tables
    handle = b.h.new_string(bytes(fa.bytes).decode("latin-1"))
    for op, args in (("size", ()), ("getPosition", ()), ("atEnd", ()), ("close", ())):
        assert b(op, handle, *args) is FAILED
    assert b("read", handle, b.h.new_string("....."), 1, 5) is FAILED
    assert a("size", fa) == 5 and b("size", fb) == 5
    assert a.files.session != b.files.session


def test_snapshots_never_overwrite_an_image_and_obey_the_policy(guest, tmp_path):
    from ozvm.prims.base import PrimitiveFailed
    folder = tmp_path / "host"
    files = guest.files
    image = str(folder / "mini.image")
    assert files.save_image(image, b"SNAP") == str(folder / "mini-snapshot.image")
    assert (folder / "mini.image").read_bytes() == b"IMAGE"
    assert (folder / "mini-snapshot.image").read_bytes() == b"SNAP"
    files.protect(folder / "mini-snapshot.image")           # e.g. loaded as another space
    assert files.save_image(image, b"SNAP2") == str(folder / "mini-snapshot-2.image")
    assert files.save_image(str(folder / "other.image"), b"X") == str(folder / "other.image")
    before = tree(folder)
    for policy in (FilePolicy.deny(), FilePolicy.read_only()):
        files.policy = policy
        with pytest.raises(PrimitiveFailed):
            files.save_image(image, b"SNAP3")
        assert files.denied[-1].operation == "snapshot"
    files.policy = FilePolicy.overlay(str(tmp_path / "scratch"))
    assert files.save_image(image, b"SNAP3") == str(folder / "mini-snapshot-2.image")
    assert guest.read("mini-snapshot-2.image") == b"SNAP3"
    assert tree(folder) == before
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_a_vm_gives_each_space_it_loads_a_policy_of_its_own(tmp_path):
    from conftest import image_path
    from ozvm.vm import VM
    vm = VM(file_policy=FilePolicy.overlay)
    a = vm.load(image_path("pharocandle.image"))
    b = vm.load(image_path("pharocandle.image"))
    assert a.file_policy.name == b.file_policy.name == "overlay"
    assert a.file_policy.scratch != b.file_policy.scratch
    vm.check_isolation()
    assert VM().load(image_path("pharocandle.image")).file_policy.name == "host"
    for s in (a, b):
        s.discard()


def test_no_socket_or_async_file_primitive_bypasses_the_policy():
    """Sockets are denied under every policy because ozvm has no socket primitives (nor
    AsyncFile's 540-549; 541-549 are SmallFloat64 arithmetic, which only 64-bit Spur
    images have and which fails elsewhere): a module adding them must consult the space's
    policy (FilePolicy.sockets is False for all) and change this test."""
    from ozvm.prims import base
    base.load_all()
    assert not [k for k in base.NAMED if k[0] in ("SocketPlugin", "AsynchFilePlugin",
                                                   "ResolverPlugin")]
    assert not [i for i in base.PRIMITIVES if 540 <= i <= 549
                and not base.PRIMITIVES[i].__name__.startswith("small_float_")]
    g = Guest("squeak2.2-mini.image", "numbered")     # V3's AsyncFile open fails there
    assert call(g.vm, 541, g.h.nil, g.h.new_string("x"), g.h.true, 1) is FAILED
    for policy in (FilePolicy.host(), FilePolicy.deny(), FilePolicy.read_only(),
                   FilePolicy.allow(["/tmp"])):
        assert policy.sockets is False
