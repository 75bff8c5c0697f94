"""Bootstrapping a new image from ozvm's own kernel sources (src/ozvm/kernel/*.st).

    build(kernel_dir=None, expressions=None, progress=None) -> ObjectSpace

`expressions` are compiled into the image as its startup script (see StartupScript in
kernel/System.st); by default those of kernel/startup.txt.
"""
from __future__ import annotations

import os

from .builder import BootstrapError, SpaceBuilder
from .kernel_source import kernel_directory, read_kernel

__all__ = ["build", "BootstrapError", "default_expressions", "read_expressions"]


def read_expressions(path: str) -> list:
    """The expressions of a startup file: one per line, taken as they are (a line may end
    with `$ `); blank lines and lines starting with a double quote are skipped."""
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\r\n") for line in f]
    return [line for line in lines if line.strip() and not line.lstrip().startswith('"')]


def default_expressions(kernel_dir: str | None = None) -> list:
    path = os.path.join(kernel_dir or kernel_directory(), "startup.txt")
    return read_expressions(path) if os.path.exists(path) else []


def build(kernel_dir: str | None = None, expressions=None, progress=None):
    """A new ObjectSpace bootstrapped from the kernel sources in `kernel_dir` (default: the
    package's kernel). `progress(step, done, total)` is called as the work advances."""
    kernel = read_kernel(kernel_dir)
    if expressions is None:
        expressions = default_expressions(kernel_dir)
    return SpaceBuilder().build(kernel, list(expressions), progress)
