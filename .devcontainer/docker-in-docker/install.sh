#!/usr/bin/env bash
# Local devcontainer feature: today's Docker Engine inside the dev container. Engine 28 from
# Debian sid (trixie has 26), with its CLI and the buildx and compose v2 plugins: one apt
# source line for sid, pinned to the Docker packages alone (trixie and sid share libc).
# Started with Docker 29's defaults (minimum API 1.44, containerd image store) and with
# moby's cgroup-v2 nesting step. The feature runs privileged, which also gives Engine 28
# the writable /proc/sys it needs (it sets IPv6 sysctls in each container).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || :)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)
# check-valid-until=no: a snapshot mirror's sid Release outlives its one-week validity.
echo "deb [check-valid-until=no] $mirror sid main" > /etc/apt/sources.list.d/sid.list
printf '%s\n' 'Package: docker.io docker-cli docker-buildx docker-compose tini-static' \
    'Pin: release n=sid' 'Pin-Priority: 990' '' \
    'Package: *' 'Pin: release n=sid' 'Pin-Priority: 100' > /etc/apt/preferences.d/docker-from-sid
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker.io docker-cli docker-buildx docker-compose \
    systemd-standalone-sysusers iptables ca-certificates mmdebstrap debootstrap
rm -rf /var/lib/apt/lists/*
mkdir -p /etc/docker
[ -f /etc/docker/daemon.json ] || echo '{"features": {"containerd-snapshotter": true}}' > /etc/docker/daemon.json
cat > /usr/local/share/labhelpers-dind-init.sh <<'INIT'
#!/usr/bin/env bash
# Start the inner dockerd once, in the background, then run the container's command.
if ! docker version >/dev/null 2>&1; then
  # cgroup v2 nesting (moby's hack/dind): move every process out of the root cgroup into
  # /init, then enable the controllers for the children, so containers' limits work. On a
  # cgroup v1 or hybrid host there is no /sys/fs/cgroup/cgroup.controllers: nothing to do.
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p /sys/fs/cgroup/init
    xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
    sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
      > /sys/fs/cgroup/cgroup.subtree_control || echo "cgroup v2: controllers not enabled" >&2
  fi
  (DOCKER_MIN_API_VERSION="${DOCKER_MIN_API_VERSION:-1.44}" dockerd > /var/log/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
fi
exec "$@"
INIT
chmod +x /usr/local/share/labhelpers-dind-init.sh
