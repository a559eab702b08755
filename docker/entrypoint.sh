#!/bin/sh
# The kit image's entrypoint: start the inner Docker engine (Engine 28 from Debian sid, with
# Docker 29's defaults: minimum API 1.44, containerd image store), load the lab's images into
# it from the bundle kept in the image, then run the command (JupyterLab, or the JupyterHub
# single-user server that DockerSpawner passes).
set -u
say() { echo "lab-entrypoint: $*"; }

# cgroup v2 nesting, as moby's hack/dind does it: a cgroup v2 root whose cgroup.procs holds
# processes cannot give its controllers to children (EBUSY), so move every process into
# /init first, then enable all controllers for the children: the inner engine's containers
# then get their --memory/--cpus/--pids-limit. On a cgroup v1 or hybrid host there is no
# cgroup.controllers at the root: nothing to do. LAB_CGROUP_ROOT is for tests only.
nest_cgroup_v2() {
  root="${LAB_CGROUP_ROOT:-/sys/fs/cgroup}"
  [ -f "$root/cgroup.controllers" ] || return 0
  mkdir -p "$root/init"
  # A process gone meanwhile (xargs' own children) cannot move: ignored.
  xargs -rn1 < "$root/cgroup.procs" > "$root/init/cgroup.procs" 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' < "$root/cgroup.controllers" > "$root/cgroup.subtree_control" \
    || say "cgroup v2: could not enable the controllers; containers' limits may fail"
}

if [ "${1:-}" = "--nest-cgroup-only" ]; then nest_cgroup_v2; exit 0; fi

if [ -S /var/run/docker.sock ] && docker version >/dev/null 2>&1; then
  say "an engine is mounted at /var/run/docker.sock: using it, no inner engine"
elif [ -n "${DOCKER_HOST:-}" ]; then
  say "DOCKER_HOST is set ($DOCKER_HOST): using it, no inner engine"
else
  say "starting the inner Docker engine (log: /var/log/dockerd.log)"
  nest_cgroup_v2
  rm -f /var/run/docker.pid /var/run/docker.sock
  # Docker 29's defaults on Engine 28: old API clients refused, images in containerd's store
  # (features.containerd-snapshotter in /etc/docker/daemon.json).
  DOCKER_MIN_API_VERSION="${DOCKER_MIN_API_VERSION:-1.44}" dockerd >/var/log/dockerd.log 2>&1 &
  i=0
  until docker version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 120 ] || ! kill -0 $! 2>/dev/null; then
      say "the inner engine did not start. Its log ends with:"
      tail -n 8 /var/log/dockerd.log
      say "run the image with --privileged, or with the explicit capabilities:"
      say "  --cap-add=ALL --cap-drop=SYS_RESOURCE --security-opt seccomp=unconfined"
      say "  --security-opt apparmor=unconfined --security-opt systempaths=unconfined"
      say "  -v /sys/fs/cgroup:/sys/fs/cgroup -v lab-docker:/var/lib/docker"
      say "JupyterLab starts anyway; the notebooks' first cell will say what is missing."
      break
    fi
    sleep 0.5
  done
  # Engine 28 writes IPv6 sysctls in each container's network namespace: with /proc/sys
  # read-only (no --privileged, no systempaths=unconfined) every `docker run` fails.
  if awk '$5 == "/proc/sys" && $6 ~ /^ro/ { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    say "/proc/sys is read-only here, so the inner engine cannot start containers:"
    say "  add --security-opt systempaths=unconfined to docker run (or use --privileged)"
  fi
fi
if docker version >/dev/null 2>&1; then
  say "loading the lab's images from the bundle"
  python -m labhelpers prepare || say "prepare failed: see above"
fi
[ -n "${JUPYTER_TOKEN:-}" ] || say "no JUPYTER_TOKEN given: open the URL with the token printed below"
exec "$@"
