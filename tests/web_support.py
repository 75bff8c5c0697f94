"""The workbench's test harness: a server in a thread and a headless Chromium on it.

    from web_support import served
    bench = served("squeak2.2-mini.image")          # a module-scoped fixture named `bench`

    def test_something(bench):
        bench.open("/browse/s1")                    # Chromium (Debian's chromium + chromedriver)
        bench.click(bench.find("#pane-classes a"))  # find waits for it; click for the next page
        status, body = bench.http("POST", "/spaces/s1/copy", {"x": "1"})   # no browser
        bench.screenshot("browser")                 # tests/artifacts/screenshots/browser.png
        bench.call(lambda wb: ...)                  # on the VM worker thread

One server per test module (shared by its tests: keep them independent of each other's
effects, or undo them); its browser starts on first use. Images are names in the shared
images folder (conftest.image_path) or absolute paths (Scratch's).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import HERE, image_path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = os.environ.get("OZ_ARTIFACTS") or os.path.join(HERE, "artifacts")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--window-size=1280,900"]


def chromium_driver(user_data_dir: str):
    """A Selenium WebDriver on Debian's headless Chromium (a fresh profile in user_data_dir)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        message = "no %s / %s: run ./setup.sh (apt packages chromium, chromium-driver)" % (
            CHROMIUM, CHROMEDRIVER)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + ["--user-data-dir=" + user_data_dir]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    return driver


class Bench:
    """A running workbench server, its URL and (on first use) a Chromium on it."""

    def __init__(self, server):
        self.server = server
        self.base = server.url.split("?")[0].rstrip("/")
        self._driver = None
        self._profile = None

    @property
    def driver(self):
        if self._driver is None:
            self._profile = tempfile.mkdtemp(prefix="oz-chromium-")
            self._driver = chromium_driver(self._profile)
        return self._driver

    def url(self, path: str) -> str:
        return self.base + path

    def open(self, path: str):
        self.driver.get(self.url(path))
        return self.driver

    def wait(self, condition, timeout: float = 60.0):
        """Wait until `condition(driver)` is true (counting polls, not asserting time)."""
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition)

    def find(self, css: str, timeout: float = 60.0):
        """The element `css` selects, waiting until the page has it."""
        from selenium.webdriver.common.by import By
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css) if d.find_elements(
            By.CSS_SELECTOR, css) else None, timeout)

    def click(self, element, timeout: float = 120.0):
        """Click `element` (a link or a button) and wait until the next page replaced this one."""
        from selenium.webdriver.common.by import By
        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        self.wait(lambda driver: replaced(page), timeout)
        return self.driver

    def http(self, method: str, path: str, data=None, body: bytes = None, headers=None,
             json_answer: bool = False):
        """(status, text or parsed JSON) of a request without the browser."""
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.url(path), data=body, method=method,
                                         headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                status, text = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode("utf-8", "replace")
        if json_answer:
            return status, json.loads(text)
        return status, text

    def call(self, fn, *args, timeout: float = 120.0):
        """fn(workbench, *args) on the server's VM worker thread."""
        return self.server.worker.call(fn, *args, timeout=timeout)

    def screenshot(self, name: str) -> str:
        """Save the browser's page as ARTIFACTS/screenshots/NAME.png; answer the path."""
        folder = os.path.join(ARTIFACTS, "screenshots")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name + ".png")
        self.driver.save_screenshot(path)
        return path

    def close(self) -> None:
        if self._driver is not None:
            try:
                self._driver.quit()
            finally:
                shutil.rmtree(self._profile, ignore_errors=True)
        self.server.stop()


def resolve(image: str) -> str:
    return image if os.path.isabs(image) else image_path(image)


def served(*images, name: str = "bench"):
    """A module-scoped fixture (assign it to a module global named `name`) yielding a Bench
    serving `images` (image names or paths, or callables answering a path)."""
    @pytest.fixture(scope="module", name=name)
    def fixture():
        from ozvm.web.server import Server
        paths = [resolve(i() if callable(i) else i) for i in images]
        bench = Bench(Server(paths, port=0).start())
        try:
            yield bench
        finally:
            bench.close()
    return fixture


def replaced(element) -> bool:
    """Whether `element` left the page: stale, or (Chromium, while the next page replaces
    the document) a node that no longer belongs to it."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as e:
        if "does not belong to the document" in str(e):
            return True
        raise
