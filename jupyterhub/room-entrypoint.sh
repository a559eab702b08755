#!/bin/sh
# The room image's entrypoint (jupyterhub/Dockerfile): as the unprivileged user `lab`,
# start a rootless inner Docker engine (Engine 28 with Docker 29's defaults: minimum API
# 1.44, containerd image store), then run the command (jupyterhub-singleuser from
# DockerSpawner).
set -u
say() { echo "room-entrypoint: $*"; }
# Started as root (DockerSpawner's default): the one thing root does is let `lab` open the
# tun device slirp4netns needs (docker run --device gives it mode 0600 root), then drop to
# `lab` for good. Nothing runs as root after this line.
if [ "$(id -u)" = 0 ]; then
  [ -c /dev/net/tun ] && chmod 0666 /dev/net/tun
  exec setpriv --reuid=lab --regid=lab --init-groups "$0" "$@"
fi
export HOME=/home/lab PATH="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
  XDG_CACHE_HOME=/opt/lab/cache LABHELPERS_OFFLINE=1 LABHELPERS_ISOLATION=rootless
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
unset DOCKER_HOST  # /var/run/docker.sock is a link to the rootless engine's socket
mkdir -p "$XDG_RUNTIME_DIR"
rm -f "$XDG_RUNTIME_DIR/docker.sock" "$XDG_RUNTIME_DIR/docker.pid"
# The participant waits for their server, not for their engine: the engine starts and the
# first notebook's images load in the background while the server starts (measured, one
# participant, serial: engine 1.7 s, then `prepare --notebook 00` 5-8 s warm and 6-40 s cold
# by load, then the server). A kernel waits for the marker file this
# writes (ipython-startup.py, at most LAB_ENGINE_WAIT s), so the first cell finds both.
ready="$XDG_RUNTIME_DIR/room-engine.ready"
rm -f "$ready"
(
  say "starting the rootless inner engine (log: $HOME/dockerd.log)"
  DOCKER_MIN_API_VERSION="${DOCKER_MIN_API_VERSION:-1.44}" \
    DOCKERD_ROOTLESS_ROOTLESSKIT_NET="${DOCKERD_ROOTLESS_ROOTLESSKIT_NET:-slirp4netns}" \
    DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER="${DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER:-builtin}" \
    DOCKER_HOST="unix://$XDG_RUNTIME_DIR/docker.sock" PATH="/usr/share/docker.io/contrib:/usr/sbin:$PATH" \
    dockerd-rootless.sh ${LAB_DOCKERD_ARGS:-} >"$HOME/dockerd.log" 2>&1 &
  engine=$!
  i=0
  until docker version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 240 ] || ! kill -0 "$engine" 2>/dev/null; then
      say "the rootless inner engine did not start. Its log ends with:"
      tail -n 12 "$HOME/dockerd.log"
      echo "no engine: see $HOME/dockerd.log" >"$ready"
      exit 0
    fi
    sleep 0.25
  done
  say "inner engine ready after $((i / 4)) s"
  # The lab's images come from the bundle in the image (read-only layers, one copy on the
  # host for every participant). LAB_PREPARE=00 (default): the image every notebook uses
  # (python:3.13-slim-trixie, ~0.2 GB of this participant's disk); the others when a
  # notebook needs them (`python -m labhelpers prepare --notebook NN`). LAB_PREPARE=all:
  # all five (~2 GB per participant), the kernel not waiting for them.
  case "${LAB_PREPARE:-00}" in
    all) echo "engine ready" >"$ready"
         python -m labhelpers prepare >"$HOME/prepare.log" 2>&1 || say "prepare failed: see $HOME/prepare.log" ;;
    none) ;;
    *) python -m labhelpers prepare --notebook "${LAB_PREPARE:-00}" >"$HOME/prepare.log" 2>&1 \
         || say "prepare --notebook ${LAB_PREPARE:-00} failed: see $HOME/prepare.log" ;;
  esac
  say "engine and images ready"
  echo "engine ready" >"$ready"
) &
exec "$@"
