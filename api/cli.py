"""The `momentloop` command line.

Exit codes: 0 done, 2 unusable input (one line says why), 1 anything else."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path
from typing import NoReturn

from rich.logging import RichHandler

from api import cli_make, cli_product
from api.cli_output import err, out
from shared.dependencies import missing_dependency
from shared.errors import InputError, MomentLoopError, OptionError


class _Parser(argparse.ArgumentParser):
    """A bad option is one line (and exit code 2), like every other error; the usage is a --help away.
    Subcommands' parsers are made of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="momentloop", description="Turn photos into a short, beat-synced, stylized video.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (and tracebacks) to stderr")
    parser.add_argument("--data-dir", type=Path, help="artifact cache and job database (MOMENTLOOP_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    make = sub.add_parser("make", help="make a video from photos (and a song)")
    make.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos, or folders of photos")
    _video_options(make)
    make.add_argument("--product", type=Path, metavar="FILE", help="a product turntable (a WebM made by "
                      "`momentloop product`) shown as one scene, timed to the music")
    make.add_argument("--product-background", type=Path, metavar="PHOTO", help="the photo behind the product "
                      "(default: the calmest of the photos)")

    product = sub.add_parser("product", help="a 360° turntable (WebM with alpha) of a product, from photos "
                             "around it or a video walking around it")
    _product_options(product)

    demo = sub.add_parser("demo", help="make a video from the real photos that ship with scikit-image")
    _video_options(demo)

    sub.add_parser("styles", help="list the looks, one per line")

    serve = sub.add_parser("serve", help="serve the web app: the API, live progress and the web UI")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--data", type=Path, metavar="DIR", help="data folder (same as --data-dir)")

    users = sub.add_parser("users", help="who may sign in to the web app")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; prints their token on the last line (shown once)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--data", type=Path, metavar="DIR", help="data folder (same as --data-dir)")
    listing = users_sub.add_parser("list", help="list the users")
    listing.add_argument("--data", type=Path, metavar="DIR", help="data folder (same as --data-dir)")
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {text}")
    return value


def _video_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.mp4", help="where to write the video")
    p.add_argument("--music", type=Path, metavar="FILE", help="a song (anything ffmpeg reads); else one is made")
    p.add_argument("--style", default="ghibli", metavar="NAME",
                   help="the look (see `momentloop styles`; default %(default)s)")
    p.add_argument("--aspect", default="9:16", choices=["9:16", "16:9", "1:1"],
                   help="frame shape (default %(default)s)")
    p.add_argument("--duration", type=_seconds, metavar="SECONDS", help="length (default: about 3 s a photo)")
    p.add_argument("--fps", type=_fps, default=30, metavar="N", help="frames per second, 12-60 (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="variation seed (same seed, same video; default %(default)s)")
    p.add_argument("--plan-out", type=Path, metavar="FILE.json", help="also write the scene plan as JSON")
    cloud = p.add_argument_group("cloud providers (a comma-separated list is a fallback chain, e.g. kling,veo,local)")
    cloud.add_argument("--style-provider", metavar="NAME", help="local, gemini, openai, replicate[:MODEL] "
                       "(MOMENTLOOP_STYLE_PROVIDER)")
    cloud.add_argument("--plan-provider", metavar="NAME", help="local, gemini, openai (MOMENTLOOP_PLAN_PROVIDER)")
    cloud.add_argument("--clip-provider", metavar="NAME[:MODEL]", help="local, kling, seedance, veo, sora (OpenAI "
                       "announced its shutdown for 2026-09-24), replicate[:MODEL], gemini, openai "
                       "(MOMENTLOOP_CLIP_PROVIDER)")
    cloud.add_argument("--music-provider", metavar="NAME", help="local, replicate (MusicGen) for a generated song "
                       "(MOMENTLOOP_MUSIC_PROVIDER)")
    cloud.add_argument("--budget", type=_usd, metavar="USD", help="stop the job before it spends more than this "
                       "on cloud providers (MOMENTLOOP_BUDGET_USD)")
    cloud.add_argument("--dry-run", action="store_true", help="print the plan and the estimated cost per stage; "
                       "spend nothing, render nothing")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 1.0 <= value <= 600.0:
        raise argparse.ArgumentTypeError(f"duration must be between 1 and 600 seconds, got {text}")
    return value


def _usd(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an amount of US dollars: {text!r}") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"a budget is 0 to 100000 US dollars, got {text}")
    return value


def _fps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 12 <= value <= 60:
        raise argparse.ArgumentTypeError(f"fps must be between 12 and 60, got {text}")
    return value


def demo_photos() -> list[Path]:
    """Real photographs that ship inside the scikit-image wheel (public domain / CC0)."""
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    names = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
             "hubble_deep_field.jpg", "camera.png"]
    return [folder / n for n in names if (folder / n).is_file()]


def _product_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos, a folder of photos, or one video")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.webm",
                   help="where to write the turntable (VP9 WebM with alpha); its poster goes beside it")
    p.add_argument("--preview", action="store_true", help="use the CPU point-splat preview renderer even on a GPU")
    p.add_argument("--report", type=Path, metavar="FILE.json",
                   help="write the registration figures and every registered photo's pose and intrinsics")
    p.add_argument("--frames", type=_turn_frames, default=120, metavar="N", help="frames of the full turn "
                   "(default 120: 4 s at 30 fps)")
    p.add_argument("--fps", type=_fps, default=30, metavar="N", help="frames per second (12-60)")
    p.add_argument("--size", type=_turn_size, default=(1080, 1080), metavar="WxH",
                   help="turntable size, even numbers (default 1080x1080; one number: a square)")
    p.add_argument("--method", default="splatfacto", choices=["splatfacto", "nerfacto"],
                   help="nerfstudio method when a GPU renders (default splatfacto)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="variation seed")


def _turn_frames(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 2 <= value <= 1440:
        raise argparse.ArgumentTypeError(f"frames must be between 2 and 1440, got {text}")
    return value


def _turn_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        width, height = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size like 1080x1080: {text!r}") from None
    if not (64 <= width <= 4096 and 64 <= height <= 4096) or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"a size is two even numbers from 64 to 4096, got {text}")
    return width, height


def _styles() -> int:
    from functions.style import list_looks

    for look in list_looks():
        out.print(f"{look.name:<12} {look.description}")
    return 0


def _data_dir(args: argparse.Namespace) -> dict[str, Path]:
    data = getattr(args, "data", None) or args.data_dir
    return {"data_dir": data} if data else {}


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.settings import ServerSettings

    settings = ServerSettings(**_data_dir(args))  # type: ignore[arg-type]
    if not (settings.web_dir / "index.html").is_file():
        raise OptionError(f"the web UI is not at {settings.web_dir}",
                          hint="reinstall MomentLoop, or point MOMENTLOOP_WEB_DIR at its web/ folder")
    app = create_app(settings=settings)
    # Everything imported so far lives as long as the process: keep it out of the collector's scans, and
    # make full collections rare. With a thousand event streams open, a full collection costs ~100 ms
    # during which no event goes out (measured with bench/sse_fanout.py: it set the p99 latency).
    gc.freeze()
    gc.set_threshold(700, 10, 100)
    err.print(f"MomentLoop on http://{args.host}:{args.port} (data in {settings.data_dir}); Ctrl-C stops it",
              markup=False)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if args.verbose else "warning",
                access_log=args.verbose, timeout_graceful_shutdown=5)
    return 0


def _users(args: argparse.Namespace) -> int:
    from functions.pipeline.backends import open_project_store
    from shared.projects import ConflictError
    from shared.settings import Settings

    settings = Settings(**_data_dir(args))  # type: ignore[arg-type]
    store = open_project_store(settings=settings)
    if args.users_command == "list":
        for user in store.list_users():
            out.print(f"{user.name}\t{user.created_at:%Y-%m-%d %H:%M}", markup=False)
        return 0
    try:
        user, token = store.add_user(name=args.name)
    except ConflictError as exc:
        raise OptionError(str(exc)) from None
    err.print(f"added {user.name}; their token (shown once, keep it secret) is on the next line", markup=False)
    out.print(token, markup=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )
    try:
        if args.command == "styles":
            return _styles()
        if args.command == "serve":
            return _serve(args)
        if args.command == "users":
            return _users(args)
        if args.command == "product":
            return cli_product.product(args)
        if args.command == "demo":
            photos = demo_photos()
            if not photos:
                raise InputError("scikit-image's sample photos are missing; reinstall scikit-image")
            return cli_make.make(args, photos)
        return cli_make.make(args, args.paths)
    except InputError as exc:
        err.print(f"momentloop: error: {exc}" + (f" (hint: {exc.hint})" if exc.hint else ""), markup=False)
        return 2
    except MomentLoopError as exc:
        if args.verbose:
            err.print_exception()
        err.print(f"momentloop: failed: {exc}" + (f" (hint: {exc.hint})" if exc.hint else ""), markup=False)
        return 1
    except KeyboardInterrupt:
        err.print("momentloop: interrupted; run the same command again to resume", markup=False)
        return 130
    except Exception as exc:
        if args.verbose:
            err.print_exception()
        missing = missing_dependency(exc)  # a package to install, said as such
        if missing is not None:
            err.print(f"momentloop: failed: {missing} (hint: {missing.hint})", markup=False)
            return 1
        err.print(f"momentloop: failed: {exc.__class__.__name__}: {exc} (run with -v for details)", markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
