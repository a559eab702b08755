#!/bin/sh
# The kit image's entrypoint: start the inner Docker engine, load the lab's images into it
# from the bundle kept in the image, then run the command (JupyterLab, or the JupyterHub
# single-user server that DockerSpawner passes).
set -u
say() { echo "lab-entrypoint: $*"; }

if [ -S /var/run/docker.sock ] && docker version >/dev/null 2>&1; then
  say "an engine is mounted at /var/run/docker.sock: using it, no inner engine"
elif [ -n "${DOCKER_HOST:-}" ]; then
  say "DOCKER_HOST is set ($DOCKER_HOST): using it, no inner engine"
else
  say "starting the inner Docker engine (log: /var/log/dockerd.log)"
  rm -f /var/run/docker.pid /var/run/docker.sock
  dockerd >/var/log/dockerd.log 2>&1 &
  i=0
  until docker version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 120 ] || ! kill -0 $! 2>/dev/null; then
      say "the inner engine did not start. Its log ends with:"
      tail -n 8 /var/log/dockerd.log
      say "run the image with --privileged, or with the explicit capabilities:"
      say "  --cap-add=ALL --cap-drop=SYS_RESOURCE --security-opt seccomp=unconfined"
      say "  --security-opt apparmor=unconfined -v /sys/fs/cgroup:/sys/fs/cgroup -v lab-docker:/var/lib/docker"
      say "JupyterLab starts anyway; the notebooks' first cell will say what is missing."
      break
    fi
    sleep 0.5
  done
fi
if docker version >/dev/null 2>&1; then
  say "loading the lab's images from the bundle"
  python -m labhelpers prepare || say "prepare failed: see above"
fi
[ -n "${JUPYTER_TOKEN:-}" ] || say "no JUPYTER_TOKEN given: open the URL with the token printed below"
exec "$@"
