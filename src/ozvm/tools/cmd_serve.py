"""`oz serve [IMAGE ...]`: the surgeon's workbench in a web page (ozvm/web, docs/workbench.md)."""
from __future__ import annotations


def add_commands(sub) -> None:
    p = sub.add_parser("serve", help="the workbench in a web page: spaces, code browser, "
                                     "inspector, diff (prints its URL)")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="images to load at start")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs the "
                        "random token the printed URL carries)")
    p.add_argument("--port", type=int, default=8642, help="port (default 8642; 0: a free one)")
    p.set_defaults(func=cmd_serve, serve_setup=None)


def cmd_serve(args) -> int:
    from ..web.server import Server
    server = Server(args.images, host=args.host, port=args.port, setup=args.serve_setup)
    server.serve_forever(lambda line: print(line, flush=True))
    return 0
