"""Starting the workbench: the VM worker, the images, the app and uvicorn.

    server = Server(images, host="127.0.0.1", port=0)    # port 0: a free port
    server.start()            # in a thread (tests); server.url; server.stop()
    server.serve_forever()    # in this thread (`oz serve`), until Ctrl-C
"""
from __future__ import annotations

import ipaddress
import threading
import time

from ..errors import OzError
from .app import create_app, new_token
from .worker import VMWorker
from .workbench import Workbench

LOAD_TIMEOUT = 600.0       # seconds an image may take to load at start


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Server:
    """The workbench server on `host`:`port` with `images` loaded; a token is required
    unless bound to loopback (or `token` is given). `files`: the file policy (as `--files`)
    of the spaces and of what the pages may load and save."""

    def __init__(self, images=(), host: str = "127.0.0.1", port: int = 8642, token=None,
                 workbench=None, log_level: str = "warning", setup=None, files: str = "host"):
        self.host, self.port = host, port
        self.token = token if token is not None else (None if is_loopback(host) else new_token())
        self.worker = VMWorker(workbench or Workbench(files=files)).start()
        self.space_ids = []
        for path in images:
            self.space_ids.append(self.worker.call(lambda wb, p: wb.load(p), path,
                                                   timeout=LOAD_TIMEOUT))
        if setup is not None:               # more set-up on the worker (e.g. `oz serve --emergency`)
            self.worker.call(setup, timeout=LOAD_TIMEOUT)
        self.app = create_app(self.worker, self.token)
        if self.token:
            self.app.state.token_query = "token=" + self.token
        self._uvicorn = None
        self._thread = None
        self.log_level = log_level

    @property
    def url(self) -> str:
        host = "[%s]" % self.host if ":" in self.host else self.host
        url = "http://%s:%d/" % (host, self.port)
        return url + ("?token=" + self.token if self.token else "")

    def _config(self):
        import uvicorn
        return uvicorn.Config(self.app, host=self.host, port=self.port, log_level=self.log_level,
                              lifespan="off", ws="websockets-sansio")

    def _bind(self):
        import socket
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            raise OzError("cannot listen on %s:%d: %s" % (self.host, self.port, e.strerror)) from None
        self.port = sock.getsockname()[1]
        return sock

    def start(self) -> "Server":
        """Serve in a background thread; answer once it accepts connections."""
        import uvicorn
        sock = self._bind()
        self._uvicorn = uvicorn.Server(self._config())
        self._uvicorn.install_signal_handlers = lambda: None   # not the main thread
        self._thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [sock]},
                                        name="ozvm-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OzError("the web server did not start")
            time.sleep(0.02)
        return self

    def serve_forever(self, announce=print) -> None:
        import uvicorn
        sock = self._bind()
        announce("ozvm workbench: %s" % self.url)
        self._uvicorn = uvicorn.Server(self._config())
        try:
            self._uvicorn.run(sockets=[sock])
        finally:
            self.worker.stop()

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(30)
        self.worker.stop()
