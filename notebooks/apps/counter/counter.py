"""counter: the smallest web app, standard library only, for notebook 01's isolation demos.

Each process keeps its own hit count; every answer says which container (hostname),
which process (PID) and how many hits. It runs in the plain python image with no build:
``python -c "$(cat counter.py)"``. Port 8000.
"""

import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

hits = 0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        global hits
        if self.path != "/health":
            hits += 1
        body = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "hits": hits})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode() + b"\n")

    def log_message(self, *args):
        pass


if __name__ == "__main__":  # `python -c` runs it as __main__; importing it starts nothing
    print("counter listening on port 8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
