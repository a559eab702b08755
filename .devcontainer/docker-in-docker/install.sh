#!/usr/bin/env bash
# Local devcontainer feature: Debian's Docker Engine inside the dev container.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker.io docker-compose iptables ca-certificates debootstrap
rm -rf /var/lib/apt/lists/*
cat > /usr/local/share/labhelpers-dind-init.sh <<'INIT'
#!/usr/bin/env bash
# Start the inner dockerd once, in the background, then run the container's command.
if ! docker version >/dev/null 2>&1; then
  (dockerd > /var/log/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
fi
exec "$@"
INIT
chmod +x /usr/local/share/labhelpers-dind-init.sh
