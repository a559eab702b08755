"""A tiny web app: the project that `lab.builds.scaffold` makes (notebook 06)."""

from flask import Flask, jsonify

app = Flask(__name__)
GREETING = "Hello from a container that Ansible built"


@app.get("/")
def index():
    return jsonify(message=GREETING)


@app.get("/health")
def health():
    return "ok"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
