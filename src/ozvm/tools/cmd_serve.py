"""`oz serve [IMAGE ...]`: the surgeon's workbench in a web page (ozvm/web, docs/workbench.md)."""
from __future__ import annotations

from .common import add_files_option, bench_subcommands


def add_commands(sub) -> None:
    p = sub.add_parser("serve", help="the workbench in a web page: spaces, code browser, "
                                     "inspector, diff (prints its URL)")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="images to load at start")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs the "
                        "random token the printed URL carries)")
    p.add_argument("--port", type=int, default=8642, help="port (default 8642; 0: a free one)")
    p.add_argument("--emergency", action="store_true",
                   help="run the images under the emergency kernel: when one fails, the host "
                        "takes over and its failing process opens in the debugger page")
    add_files_option(p, "host")
    p.set_defaults(func=cmd_serve, serve_setup=None)
    q = bench_subcommands(sub).add_parser(
        "serve", help="the live screen's rate: updates a page receives per second from "
                      "`oz serve` while a guest draws at a known rate")
    q.add_argument("image", help="an image with a Display and Delays (e.g. squeak2.2-mini.image)")
    q.add_argument("--seconds", type=float, default=10.0, help="how long to count (default 10)")
    q.add_argument("--interval", type=int, default=20, metavar="MS",
                   help="the guest draws every MS milliseconds (default 20: 50 frames/s at most)")
    q.add_argument("--share", type=float, default=1.0, help="the space's CPU share (default 1.0)")
    q.set_defaults(func=cmd_bench_serve)


def cmd_serve(args) -> int:
    from ..web.server import Server
    workbench, setup = None, args.serve_setup
    if getattr(args, "emergency", False):
        from ..web.pages.emergency import EmergencyWorkbench
        workbench, setup = EmergencyWorkbench(files=args.files), EmergencyWorkbench.take_over
    server = Server(args.images, host=args.host, port=args.port, setup=setup, workbench=workbench,
                    files=args.files)
    if workbench is not None:
        print("emergency kernel: failures open at %semergency" % server.url.split("?")[0], flush=True)
    server.serve_forever(lambda line: print(line, flush=True))
    return 0


def cmd_bench_serve(args) -> int:
    from ..web.screen_bench import bench_screen, report
    for line in report(bench_screen(args.image, seconds=args.seconds, interval_ms=args.interval,
                                     share=args.share)):
        print(line, flush=True)
    return 0
