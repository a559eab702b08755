"""The survey's on-disk cache: one JSON file per project, with an age limit.

>>> import tempfile
>>> cache = Cache(folder=tempfile.mkdtemp())
>>> cache.put("https://index.example/simple/", "docker", {"name": "docker"})
>>> cache.get("https://index.example/simple/", "docker")
{'name': 'docker'}

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time

from ..settings import cache_path


class Cache:
    """JSON files under the kit's cache folder, one per project, with an age limit.

    Safe to share between the survey's threads; counts its hits and misses.

    Args:
        folder: where the files go (default: ``survey/`` in the kit's cache folder).
        max_age: seconds a file stays valid (0: every lookup misses).

    >>> Cache(max_age=3600).folder.endswith("survey")
    True

    Introduced in ``05-more-modules``.
    """

    def __init__(self, folder: str | None = None, max_age: float = 24 * 3600):
        self.folder = folder or cache_path("survey")
        self.max_age = max_age
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def _path(self, scope: str, key: str) -> str:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
        return os.path.join(self.folder, digest, safe + ".json")

    def get(self, scope: str, key: str):
        """The cached value, or None when absent or too old.

        Args:
            scope: what the key belongs to (the index's URL): each scope has its own folder.
            key: the project's name, or another key within the scope.

        Returns:
            The stored JSON value, or None (counted as a miss).

        >>> Cache(folder="/nonexistent").get("scope", "nothing")
        """
        path = self._path(scope, key)
        try:
            if time.time() - os.path.getmtime(path) <= self.max_age:
                with open(path) as f:
                    value = json.load(f)
                with self._lock:
                    self.hits += 1
                return value
        except (OSError, ValueError):
            pass
        with self._lock:
            self.misses += 1
        return None

    def put(self, scope: str, key: str, value) -> None:
        """Store a JSON value, atomically (readers never see half a file).

        Args:
            scope: as for :meth:`get`.
            key: as for :meth:`get`.
            value: anything ``json.dump`` takes.

        >>> import tempfile
        >>> Cache(folder=tempfile.mkdtemp()).put("scope", "key", [1, 2])
        """
        path = self._path(scope, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            json.dump(value, f)
        os.replace(tmp, path)
