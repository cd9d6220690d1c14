"""A running server leaves ``server.json`` in its store so that `tropescope index` can find
it and submit jobs instead of failing on DuckDB's lock."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.settings import Settings

FILE = "server.json"


def announce(settings: Settings) -> None:
    path = settings.store / FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"host": settings.host, "port": settings.port, "pid": os.getpid()}))
    os.replace(tmp, path)


def withdraw(settings: Settings) -> None:
    path = settings.store / FILE
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_server(store: Path) -> str | None:
    """The URL of the server holding ``store``, if one announced itself and is alive."""
    try:
        info = json.loads((store / FILE).read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    host = "127.0.0.1" if info["host"] in ("0.0.0.0", "::") else info["host"]
    return f"http://{host}:{info['port']}"
