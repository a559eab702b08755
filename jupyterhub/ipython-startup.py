# Run by every kernel of a room's participant before their first cell (the room image puts
# it in IPython's startup folder). The room's entrypoint starts the inner engine and loads
# the first notebook's images in the background, so that the server answers sooner; a
# kernel started in those first seconds waits here for its "ready" marker, at most
# LAB_ENGINE_WAIT seconds (default 60, under the server's kernel-start timeout), so that
# `lab.doctor()` in the first cell finds the engine and the images. Not waiting longer:
# the doctor then says what is missing.
import os as _os
import time as _time


def _room_wait_for_engine():
    runtime = _os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{_os.getuid()}")
    marker = _os.path.join(runtime, "room-engine.ready")
    end = _time.monotonic() + float(_os.environ.get("LAB_ENGINE_WAIT", "60"))
    while not _os.path.exists(marker) and _time.monotonic() < end:
        _time.sleep(0.2)


_room_wait_for_engine()
del _room_wait_for_engine, _os, _time
