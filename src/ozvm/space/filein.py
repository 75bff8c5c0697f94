"""Filing chunk-format code into a space (`space.filein(path)`, `oz filein`), as the image's
own `fileIn` would: each do-it is evaluated, each `methodsFor:` section's methods compiled
into their class, in file order.

- Methods are compiled and installed with ozvm's compiler (`space.install`, which also
  classifies them and, in images that keep source pointers, logs their source).
- Do-its are compiled with ozvm's compiler and run in the guest. A class definition
  (`Object subclass: #Foo instanceVariableNames: '...' classVariableNames: '...'
  poolDictionaries: '...' category: '...'` and its variable/byte/word/weak forms,
  `Foo class instanceVariableNames: '...'`) is such a do-it when the image has a
  class-definition method for it (Squeak 2.2's `Class>>subclass:instanceVariableNames:...`):
  the image's own code makes the class. Images without one (PharoCandle) get the class
  made through the membrane (class_definition.py).
- All or nothing: the whole filing-in runs in a transaction (transaction.py); an error in
  any chunk (a chunk-format error, a compile error, a guest error in a do-it, a missing
  class) undoes every change and raises FileInError naming the file, line and column.
"""
from __future__ import annotations

from ..errors import CompileError, GuestError, OzError
from .chunks import ChunkError, read_chunk_file, read_chunks

DOIT_TIMEOUT = 300.0

DEFINITION_KINDS = ("subclass:", "variableSubclass:", "variableByteSubclass:",
                    "variableWordSubclass:", "weakSubclass:")
DEFINITION_KEYWORDS = ("instanceVariableNames:", "classVariableNames:", "poolDictionaries:", "category:")


class FileInError(OzError):
    """Filing in failed: `path`, `line`, `column` (1-based) and `reason`; nothing was kept."""

    def __init__(self, reason, path, line, column):
        self.path, self.line, self.column, self.reason = path, line, column, reason
        super().__init__("%s:%d:%d: %s" % (path, line, column, reason))


class FileInResult:
    """What a filing-in did: `classes` defined (names), `methods` installed ('Foo>>bar'),
    `doits` evaluated (count), `comments` read (class comments are not kept)."""

    def __init__(self):
        self.classes, self.methods, self.doits, self.comments = [], [], 0, 0

    def summary(self) -> str:
        return "%d class definitions, %d methods, %d do-its" % (len(self.classes), len(self.methods),
                                                              self.doits)

    def __repr__(self):
        return "<FileInResult %s>" % self.summary()


def filein(space, paths, texts=None) -> FileInResult:
    """File the chunk files `paths` (a path or a list) into `space`, all or nothing;
    `texts`: optional {name: text} read instead of files (names reported in errors)."""
    if isinstance(paths, str):
        paths = [paths]
    files = []
    for p in paths:
        try:
            items = read_chunks(texts[p], p) if texts and p in texts else read_chunk_file(p)
        except ChunkError as e:
            raise FileInError(e.reason, e.path, e.line, e.column) from None
        files.append(items)
    result = FileInResult()
    with space.transaction():
        for items in files:
            for item in items:
                _file_in_item(space, item, result)
    return result


def _fail(chunk, reason, index=None):
    e = chunk.error(reason, index)
    return FileInError(e.reason, e.path, e.line, e.column)


def _compile_failure(chunk, err: CompileError, lead: int = 0):
    return _fail(chunk, err.reason, err.offset + lead if err.offset is not None else None)


def _source(chunk) -> tuple:
    """(text, lead): the chunk's text without its leading separators (as Squeak's
    `nextChunk` reads it) and how many characters were skipped."""
    text = chunk.text.lstrip(" \t\n\f")
    return text, len(chunk.text) - len(text)


def _file_in_item(space, item, result) -> None:
    if item.kind == "comment":
        result.comments += 1
        return
    if item.kind == "methods":
        name = item.class_name + (" class" if item.meta else "")
        cls = space.class_named(name)
        if cls is None:
            raise _fail(item.chunk, "no class named %s" % item.class_name)
        for c in item.chunks:
            text, lead = _source(c)
            try:
                method = space.install(cls, text, item.category)
            except CompileError as e:
                raise _compile_failure(c, e, lead) from None
            except OzError as e:
                raise _fail(c, str(e)) from None
            selector = space.mirror_on(method).selector() or "?"
            _organize(space, cls, selector, item.category, c)
            result.methods.append("%s>>%s" % (name, selector))
        return
    _doit(space, item.chunk, result)


def _organize(space, cls, selector, category, chunk) -> None:
    """A class without an organization yet (Squeak makes one on first use): the image's own
    `organization classify: selector under: category` makes it and files the method."""
    layout = space.layout
    i = layout.class_organization
    if i is None or i >= len(cls.ptrs) or cls.ptrs[i] is not space.nil or category is None:
        return
    if space.mirror_on(cls.cls).lookup("organization") is None:
        return
    from .execution import run_send
    try:
        org = run_send(space, cls, "organization", (), DOIT_TIMEOUT)
        run_send(space, org, "classify:under:", [space.intern_symbol(selector),
                                                  space.heap.new_string(category)], DOIT_TIMEOUT)
    except GuestError as e:
        raise _fail(chunk, "classifying the method failed in the guest: %s" % e.message) from None


def _doit(space, chunk, result) -> None:
    from ..compiler.parser import parse_doit
    text, lead = _source(chunk)
    try:
        tree = parse_doit(text, space.info.version == 6502)
    except CompileError as e:
        raise _compile_failure(chunk, e, lead) from None
    definition = class_definition(tree)
    if definition is not None and not _guest_defines(space, definition):
        from .class_definition import define_class
        try:
            define_class(space, **definition)
        except OzError as e:
            raise _fail(chunk, str(e)) from None
        result.classes.append(definition["name"])
        return
    from ..compiler.api import compile_doit
    from .execution import run_method
    try:
        method = compile_doit(space, text)
        run_method(space, method, space.nil, (), DOIT_TIMEOUT)
    except CompileError as e:
        raise _compile_failure(chunk, e, lead) from None
    except GuestError as e:
        raise _fail(chunk, "the do-it failed in the guest: %s" % e.message) from None
    space.invalidate_indexes()
    space.methods_changed()
    if definition is not None:
        result.classes.append(definition["name"])
    else:
        result.doits += 1


def class_definition(tree):
    """The parts of a class-definition do-it as keyword arguments for define_class, or None:
    `Sup subclass: #Foo instanceVariableNames: 'a' classVariableNames: 'B'
    poolDictionaries: '' category: 'C'` (and its variable/byte/word/weak forms; Pharo's
    `package:` for `category:`), or `Foo class instanceVariableNames: 'x'`."""
    stmts = tree.body.statements
    if len(stmts) != 1 or stmts[0].kind != "send" or tree.body.temps:
        return None
    send = stmts[0]
    parts = send.selector.split(":")[:-1]
    keywords = [p + ":" for p in parts]
    if not all(a.kind == "literal" and isinstance(a.value, str) for a in send.args):
        return None
    values = [a.value for a in send.args]
    rcv = send.receiver
    if keywords == ["instanceVariableNames:"] and rcv.kind == "send" and rcv.selector == "class" \
            and rcv.receiver.kind == "variable":
        return {"kind": "class side", "superclass": None, "name": rcv.receiver.name,
                "instance_variables": values[0].split()}
    if not keywords or keywords[0] not in DEFINITION_KINDS or rcv.kind != "variable":
        return None
    rest = dict(zip(keywords[1:], values[1:]))
    if "package:" in rest:
        rest["category:"] = rest.pop("package:")
    if set(rest) - set(DEFINITION_KEYWORDS) or "instanceVariableNames:" not in rest:
        return None
    return {"kind": keywords[0], "superclass": rcv.name, "name": str(values[0]),
            "instance_variables": rest.get("instanceVariableNames:", "").split(),
            "class_variables": rest.get("classVariableNames:", "").split(),
            "pools": rest.get("poolDictionaries:", "").split(),
            "category": rest.get("category:", ""), "selector": send.selector}


def _guest_defines(space, definition) -> bool:
    """Whether the image's own code can evaluate this definition: the receiver's class side
    understands the message and the image has a globals dictionary to put the class in."""
    if space.globals_dictionary() is None:
        return False
    if definition["kind"] == "class side":
        cls = space.class_named(definition["name"])
        selector = "instanceVariableNames:"
        receiver = cls.cls.cls if cls is not None else None      # `Foo class` is a Metaclass
    else:
        sup = definition["superclass"]
        receiver = space.class_named(sup) if sup != "nil" else space.nil
        selector = definition["selector"]
        if receiver is not None:
            receiver = space.class_of(receiver) if receiver is space.nil else receiver.cls
    if receiver is None:
        return False
    return space.mirror_on(receiver).lookup(selector) is not None
