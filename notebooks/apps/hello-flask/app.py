"""hello-flask: the sample web app of notebook 01 (01-python-apps-in-docker).

Routes:
    /         a greeting naming the container (its hostname) and this instance's hit count
    /hits     this instance's own counter, kept in the process: each container has its own
    /count    a counter shared through Redis (set REDIS_HOST): the compose example
    /health   "ok", for the image's HEALTHCHECK

Run it locally with ``flask --app app run`` or, in the image, with ``python app.py``.
"""

from __future__ import annotations

import os
import socket
import threading

from flask import Flask, jsonify

GREETING = "Hello from hello-flask"


def make_redis():
    """A Redis client for REDIS_HOST (default port 6379), or None when it is unset."""
    host = os.environ.get("REDIS_HOST")
    if not host:
        return None
    import redis

    return redis.Redis(host=host, port=int(os.environ.get("REDIS_PORT", "6379")),
                       socket_connect_timeout=2, socket_timeout=2)


def create_app(store=None) -> Flask:
    """The Flask application; ``store`` is a Redis-like client (``incr``) or None."""
    app = Flask(__name__)
    lock = threading.Lock()
    state = {"hits": 0}
    store = store if store is not None else make_redis()

    def hit() -> int:
        with lock:
            state["hits"] += 1
            return state["hits"]

    @app.get("/")
    def index():
        return jsonify(message=GREETING, host=socket.gethostname(), hits=hit())

    @app.get("/hits")
    def hits():
        return jsonify(host=socket.gethostname(), hits=hit())

    @app.get("/count")
    def count():
        if store is None:
            return jsonify(error="no Redis: set REDIS_HOST"), 503
        return jsonify(host=socket.gethostname(), count=int(store.incr("hits")))

    @app.get("/health")
    def health():
        return "ok\n"

    return app


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    print(f"hello-flask listening on port {port}", flush=True)
    create_app().run(host="0.0.0.0", port=port)
