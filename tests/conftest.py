"""Shared fixtures: the real images (../shared/images or $OZ_IMAGES) and the oracle."""
from __future__ import annotations

import glob
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.environ.get("OZ_IMAGES") or os.path.join(HERE, "..", "..", "shared", "images")
ORACLE = os.path.join(os.path.dirname(os.path.abspath(IMAGES)), "oracle")

V3_IMAGES = ["squeak2.2-mini.image", "squeak2.2-benchmark.image", "pharocandle.image"]
SPUR_IMAGES = ["spur32-headless.image", "pharocandle-spur64.image", "pharo8-kernel-spur64.image"]
ALL_IMAGES = V3_IMAGES + SPUR_IMAGES


def missing_folder(what: str, folder: str) -> None:
    """Skip a test whose shared folder is absent; under CI (CI set) fail it instead, so a
    misconfigured CI run cannot pass by skipping everything that needs real images."""
    message = "no shared %s folder at %s" % (what, folder)
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: the real images are required)", pytrace=False)
    pytest.skip(message)


def image_path(name: str) -> str:
    path = os.path.join(IMAGES, name)
    if not os.path.isdir(IMAGES):
        missing_folder("images", IMAGES)
    assert os.path.exists(path), "missing shared image %s" % path
    return path


def oracle_path(name: str) -> str:
    path = os.path.join(ORACLE, name)
    if not os.path.isdir(ORACLE):
        missing_folder("oracle", ORACLE)
    return path


SCRATCH_IMAGE = "/usr/share/scratch/Scratch.image"


def scratch_image() -> str:
    """Scratch 1.4's image (Debian package `scratch`, installed by setup.sh): skipped when
    missing, a failure when CI is set."""
    if not os.path.exists(SCRATCH_IMAGE):
        if os.environ.get("CI"):
            pytest.fail("missing %s: run ./setup.sh (apt package scratch)" % SCRATCH_IMAGE)
        pytest.skip("no %s (apt package scratch)" % SCRATCH_IMAGE)
    return SCRATCH_IMAGE


def squeak_vm() -> str:
    found = glob.glob("/usr/lib/squeak/*/squeakvm")
    assert found, "squeak-vm is not installed: run ./setup.sh"
    return found[0]


_cache: dict = {}


def load_heap(name: str):
    """A freshly read heap of a shared image."""
    from ozvm.image.formats import read_image
    return read_image(image_path(name))


@pytest.fixture(params=V3_IMAGES)
def v3_name(request):
    return request.param
