"""``python -m labhelpers doctor | prepare | clean | engine [current|podman] | tap | bundle | mirror | survey | room``.

Each command prints what it did; a setup problem ends with one clear message
(what went wrong, what to do) and exit status 1, never a traceback.

>>> from labhelpers.cli import main
>>> main(["engine", "status"])                   # doctest: +SKIP
running: Docker 28.5.2 (API 1.51) at unix:///var/run/docker.sock (default socket)
0
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from . import settings
from .errors import LabError


def _doctor(args) -> int:
    from .doctor import check, on_binder, BINDER_NOTE

    report = check()
    print(report)
    if not report.ok and on_binder():
        print("\n" + BINDER_NOTE)
    return 0 if report.ok else 1


def _prepare(args) -> int:
    from . import images, warmup

    if args.background:
        print(warmup.start())
        return 0
    start = time.monotonic()
    done = warmup.record() if args.record else images.prepare(notebook=args.notebook)
    scope = f" for notebook {args.notebook}" if args.notebook else ""
    print(f"prepared {len(done)} image{'s' * (len(done) != 1)}{scope} in {time.monotonic() - start:.1f} s")
    if args.demo:
        from . import demo

        print(demo.rehearse())
    return 0


def _bundle(args) -> int:
    from . import bundle

    if args.action == "export":
        manifest = bundle.export_bundle(args.file, wheelhouse=args.wheelhouse,
                                        python_version=args.python_version)
        verb = "wrote"
    else:
        manifest = bundle.import_bundle(args.file, load=not args.no_load)
        verb = "imported"
    print(f"{verb} {args.file}: {manifest.summary()}")
    return 0


def _mirror(args) -> int:
    from . import mirror

    if args.action == "start":
        print(mirror.start(port=args.port, bind=args.bind, upstream=args.upstream,
                           fill_first=not args.no_fill))
    elif args.action == "stop":
        print(mirror.stop(purge=args.purge))
    else:
        print(mirror.status())
    return 0


def _clean(args) -> int:
    from .cleanup import clean

    found = clean(args.notebook, dry_run=args.dry_run, log=print)
    scope = f"notebook {args.notebook}" if args.notebook else "every notebook"
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(found)} lab objects of {scope}")
    return 0


def _command(rest: list[str], usage: str) -> list[str]:
    command = rest[1:] if rest[:1] == ["--"] else rest
    if not command:
        raise LabError("No command to run.", f"give one after `--`: `{usage}`")
    return command


def _engine(args) -> int:
    from . import current, daemon

    if args.action == "status":
        print(daemon.status())
    elif args.action == "start":
        print(daemon.start())
    elif args.action == "podman":
        from . import podman

        actions = {"start": podman.start, "stop": podman.stop, "status": podman.status}
        what = args.rest or ["status"]
        if what[0] not in actions or len(what) > 1:
            raise LabError(f"`engine podman {' '.join(args.rest)}` is not a command.",
                           "use `engine podman start`, `stop` or `status`")
        print(actions[what[0]]())
    else:
        what = args.rest[:1] or ["status"]
        if what == ["run"]:
            return current.run(_command(args.rest[1:], "python -m labhelpers engine current run -- docker ps"))
        actions = {"start": current.start, "stop": current.stop, "status": current.status}
        if what[0] not in actions or len(args.rest) > 1:
            raise LabError(f"`engine current {' '.join(args.rest)}` is not a command.",
                           "use `engine current start`, `stop`, `status` or `run -- CMD`")
        print(actions[what[0]]())
    return 0


def _tap(args) -> int:
    from .rawapi import Tap

    command = _command(args.cmd, "python -m labhelpers tap -- docker ps")
    with Tap() as tap:
        try:
            code = subprocess.run(command, env=tap.env()).returncode
        except FileNotFoundError as err:
            raise LabError(f"{command[0]!r} is not installed here.", "check the command's name") from err
        tap.wait_idle()
        lines = tap.lines()
    print(f"--- {len(lines)} requests through the tap ---", file=sys.stderr)
    for line in lines:
        print(line, file=sys.stderr)
    return code


def _survey(args) -> int:
    import json

    from . import survey

    cache = survey.Cache(max_age=0 if args.no_cache else 24 * 3600)
    records, meta = survey.survey(args.term, limit=args.limit, workers=args.workers, cache=cache)
    print(json.dumps(meta, indent=2))
    if args.save:
        path = survey.save_snapshot(records, meta)
        print(f"snapshot: {path.name} ({path.stat().st_size // 1024} KiB)")
    return 0


def _room(args: argparse.Namespace) -> int:
    """The instructor's room: `room hub`, `room accounts N`, `room status` (labhelpers.room)."""
    from pathlib import Path

    from . import room

    state = Path(args.state) if args.state else room.DEFAULT_STATE
    if args.action == "hub":
        hub = room.Hub.start(state, port=args.port)
        print(f"hub on {hub.url} (log: {hub.log}); isolation: {settings.hub_isolation()}")
        print("next: python -m labhelpers room accounts N; Ctrl-C stops the hub and every server")
        # A hub started in the background (no Ctrl-C) is stopped by `kill`: the same clean stop.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            hub.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            hub.stop()
        return 0
    client = room.HubClient(args.url, room.tools_token(state))
    if args.action == "accounts":
        count = int(args.rest[0]) if args.rest else 0
        names = [f"{args.prefix}{i:02d}" for i in range(1, count + 1)]
        pairs = client.create_accounts(names, state / "accounts.json")
        if "instructor" not in room.read_accounts(state / "accounts.json"):
            password = room.new_password()
            room.add_account(state / "accounts.json", "instructor", password)
            print(f"instructor (admin) password: {password}")
        Path(args.sheet).write_text(room.sheet(pairs, args.public_url or args.url))
        print(f"{len(pairs)} accounts; printable cards: {args.sheet}")
        return 0
    rows = client.status()
    width = max((len(r.name) for r in rows), default=4)
    print(f"{'name':<{width}}  {'server':<13}  {'last activity':<20}  exercises passed")
    for r in rows:
        print(f"{r.name:<{width}}  {r.server:<13}  {r.last_activity[:19]:<20}  {', '.join(r.passed) or '-'}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m labhelpers", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the engine and the lab; exit 1 without an engine").set_defaults(run=_doctor)
    prep = sub.add_parser("prepare", help="make every image of the catalogue present")
    prep.add_argument("--demo", action="store_true",
                      help="speaker's pre-flight: also warm caches and dry-run every notebook, "
                           "printing each one's worst cell time")
    prep.add_argument("--notebook", metavar="NN", help="only the images this notebook needs")
    prep.add_argument("--background", action="store_true",
                      help="prepare in the background and return at once (make lab); "
                           "lab.doctor('NN') waits for the images its notebook needs")
    prep.add_argument("--record", action="store_true", help=argparse.SUPPRESS)
    prep.set_defaults(run=_prepare)
    clean = sub.add_parser("clean", help="remove what the lab created, and nothing else")
    clean.add_argument("--notebook", metavar="NN", help="only this notebook's objects (two digits)")
    clean.add_argument("--dry-run", action="store_true", help="list, remove nothing")
    clean.set_defaults(run=_clean)
    eng = sub.add_parser("engine", help="status of the engine, or start one (Debian/Ubuntu as root); "
                                        "`engine current start|stop|status|run -- CMD`: today's "
                                        "Docker Engine as docker-in-docker (labhelpers.current); "
                                        "`engine podman start|stop|status`: Podman's Docker-"
                                        "compatible service (labhelpers.podman)")
    eng.add_argument("action", choices=["status", "start", "current", "podman"])
    eng.add_argument("rest", nargs=argparse.REMAINDER,
                     help="with current: start, stop, status or run -- CMD; with podman: start, stop or status")
    eng.set_defaults(run=_engine)
    tap = sub.add_parser("tap", help="run a command through the API tap, then list its requests (notebook 02)")
    tap.add_argument("cmd", nargs=argparse.REMAINDER, help="-- the command, e.g. -- docker ps")
    tap.set_defaults(run=_tap)
    bun = sub.add_parser("bundle", help="offline bundle: export every image and wheel to FILE, "
                                        "or import FILE (checksums verified first)")
    bun.add_argument("action", choices=["export", "import"])
    bun.add_argument("file", metavar="FILE", help="the bundle archive (.tar.gz)")
    bun.add_argument("--wheelhouse", metavar="DIR",
                     help="export: include this folder of wheels instead of running pip wheel")
    bun.add_argument("--python-version", metavar="X.Y.Z",
                     help="export: wheels for that Python (another machine's, the kit image's)")
    bun.add_argument("--no-load", action="store_true",
                     help="import: verify and keep the files, load nothing (`prepare` loads them)")
    bun.set_defaults(run=_bundle)
    mir = sub.add_parser("mirror", help="the room cache: a pull-through registry mirror on this machine "
                                        "(start prints the line each participant adds to daemon.json)")
    mir.add_argument("action", choices=["start", "stop", "status"])
    mir.add_argument("--port", type=int, default=5000, help="start: the port the room reaches it on")
    mir.add_argument("--bind", default="0.0.0.0", metavar="IP",
                     help="start: listen on this address only (default: every interface)")
    mir.add_argument("--upstream", metavar="URL", default=None,
                     help="start: the registry it proxies to (default: Docker Hub's)")
    mir.add_argument("--no-fill", action="store_true",
                     help="start: do not store this engine's catalogue images first")
    mir.add_argument("--purge", action="store_true", help="stop: also remove the cached images' volume")
    mir.set_defaults(run=_mirror)
    sur = sub.add_parser("survey", help="survey the live package index for docker projects "
                                        "(notebook 05; --save writes a dated snapshot into the kit)")
    sur.add_argument("--term", default="docker", help="the part of the names to look for")
    sur.add_argument("--limit", type=int, help="only the first N projects")
    sur.add_argument("--workers", type=int, default=12, help="requests in flight at once")
    sur.add_argument("--save", action="store_true", help="write a dated snapshot into the kit")
    sur.add_argument("--no-cache", action="store_true", help="fetch everything afresh")
    sur.set_defaults(run=_survey)
    rm = sub.add_parser("room", help="a workshop room: `room hub` starts JupyterHub (make hub), "
                                     "`room accounts N` makes N accounts and their printable cards, "
                                     "`room status` lists participants, servers and exercises passed")
    rm.add_argument("action", choices=["hub", "accounts", "status"])
    rm.add_argument("rest", nargs="*", help="with accounts: how many")
    rm.add_argument("--url", default="http://127.0.0.1:8000", help="the hub (default %(default)s)")
    rm.add_argument("--public-url", help="accounts: the URL printed on the cards (default --url)")
    rm.add_argument("--port", type=int, default=8000, help="hub: its port on 127.0.0.1")
    rm.add_argument("--prefix", default="p", help="accounts: names are PREFIX01, PREFIX02...")
    rm.add_argument("--sheet", default="room-cards.html", help="accounts: the printable sheet")
    rm.add_argument("--state", help="the hub's state folder (default build/hub/state)")
    rm.set_defaults(run=_room)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command of ``python -m labhelpers``.

    Args:
        argv: the arguments after ``python -m labhelpers`` (default: the command line's;
            the process then exits with the status).

    Returns:
        The exit status: 0 done, 1 a setup problem (its message printed), 130 interrupted.

    >>> main(["clean", "--notebook", "00", "--dry-run"])       # doctest: +SKIP
    would remove 0 lab objects of notebook 00
    0

    (skipped: it asks the engine.) Introduced in ``00-start-here``.
    """
    args = parser().parse_args(argv)
    try:
        code = args.run(args)
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    if argv is None:
        sys.exit(code)
    return code
