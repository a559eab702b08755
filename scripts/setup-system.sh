#!/usr/bin/env bash
# Install the system packages the lab needs, on a fresh Debian/Ubuntu machine, as root.
#
# - docker.io     the Docker Engine, only when no engine answers (Docker Desktop,
#                 an existing daemon or DOCKER_HOST are left alone)
# - mmdebstrap    builds stand-ins for the lab's images when no registry is reachable
#                 (a Debian base in about 20 s; debootstrap, four times slower, where the
#                 archive has no mmdebstrap)
# - docker-buildx, docker-compose  the BuildKit and Compose v2 CLI plugins, when the
#                 `docker` CLI lacks them: from Debian's newest suite (sid), which needs
#                 only libc6 >= 2.34, fetched through a private package list so the
#                 machine's own apt sources are never changed. Debian 12's own
#                 docker-compose is v1: retired, and it fails to re-create services
#                 on the containerd image store (Engine 29, Docker Desktop).
# - podman        only with --podman (`make podman`): Podman beside Docker, see below
# - chromium, chromium-driver  only with --browser (`make test`): the headless browser
#                 of tests/test_browser.py (Playwright drives Debian's build; no browser
#                 is ever downloaded). `make lab` does not wait for it.
#
# Anywhere else (macOS, Windows, not root, another distribution) it installs nothing and
# says what the lab expects, so `make` goes on with whatever the machine already has.
#
# --dry-run: print what would be installed, install nothing.
# --browser: Chromium too (make test).
# --podman: only Podman, when asked (`make podman`): Debian's podman, runc beside it
#           (crun, its default runtime, refuses hybrid cgroup layouts; labhelpers.podman
#           picks runc there), and the dnsname CNI plugin (containers on a network find
#           each other by name, as on Docker). The kit starts its service itself; nothing
#           is enabled.
set -euo pipefail
dry_run=0
podman=0
with_browser=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    --browser) with_browser=1 ;;
    --podman) podman=1 ;;
  esac
done

say() { printf 'setup-system: %s\n' "$*"; }

if [ "$podman" -eq 1 ]; then
  want=()
  command -v podman >/dev/null 2>&1 || want+=(podman)
  command -v runc >/dev/null 2>&1 || want+=(runc)
  # Containers on one network find each other by name (notebook 04) only with this CNI plugin.
  [ -x /usr/lib/cni/dnsname ] || want+=(golang-github-containernetworking-plugin-dnsname)
  if [ ${#want[@]} -eq 0 ]; then
    say "podman: installed ($(podman --version))"
  elif [ "$dry_run" -eq 1 ]; then
    say "would install: ${want[*]}"
  elif [ "$(uname -s)" != Linux ] || [ ! -f /etc/debian_version ] || [ "$(id -u)" -ne 0 ]; then
    say "not root on Debian/Ubuntu: install ${want[*]} yourself (e.g. sudo apt-get install -y ${want[*]})"
    exit 1
  else
    say "installing ${want[*]} from the distribution's archive"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
    say "installed $(podman --version)"
  fi
  exit 0
fi

engine_answers() {
  command -v docker >/dev/null 2>&1 && timeout 15 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

want=()
if ! engine_answers && ! command -v dockerd >/dev/null 2>&1; then want+=(docker.io); fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  if apt-cache show mmdebstrap >/dev/null 2>&1; then want+=(mmdebstrap)
  elif ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then want+=(debootstrap); fi
fi
# Notebook 03 reaches a machine with ssh:// through the ssh command too (use_ssh_client=True).
command -v ssh >/dev/null 2>&1 || want+=(openssh-client)
plugins=()
docker buildx version >/dev/null 2>&1 || plugins+=(docker-buildx)
docker compose version >/dev/null 2>&1 || plugins+=(docker-compose)
# Optional: without them only the browser test skips (Ubuntu ships chromium as a snap).
browser=()
if [ "$with_browser" -eq 1 ]; then
  [ -x /usr/bin/chromium ] || browser+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || [ -x /usr/bin/chromedriver ] || browser+=(chromium-driver)
fi

if [ ${#want[@]} -eq 0 ] && [ ${#plugins[@]} -eq 0 ] && [ ${#browser[@]} -eq 0 ]; then
  say "system packages: nothing to install"
  exit 0
fi
if [ "$dry_run" -eq 1 ]; then
  say "would install: ${want[*]} ${plugins[*]} ${browser[*]}"
  exit 0
fi

if [ "$(uname -s)" != Linux ] || [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
  say "not a Debian/Ubuntu machine: install these yourself if the lab needs them: ${want[*]} ${plugins[*]} ${browser[*]}"
  say "(a running Docker engine, e.g. Docker Desktop, is all the notebooks require)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  say "not root: cannot install ${want[*]} ${plugins[*]} ${browser[*]}"
  say "run: sudo apt-get install -y ${want[*]} ${plugins[*]} ${browser[*]}   (or start your own Docker engine)"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ ${#want[@]} -gt 0 ]; then
  say "installing ${want[*]} from the distribution's archive"
  apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  say "installed ${want[*]}"
fi
if [ ${#plugins[@]} -gt 0 ]; then
  # The mirror of the machine's apt sources, its newest suite read through a private list.
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
           | grep -oE "https?://[^ ]+/debian/?( |\$)" | head -n1 | tr -d ' ' || true)
  lists=/var/cache/labhelpers/apt-sid
  mkdir -p "$lists/lists/partial" "$lists/debs"
  echo "deb ${LABHELPERS_DEBIAN_MIRROR:-${mirror%/}} sid main" > "$lists/sources.list"
  sid=(-o Dir::Etc::SourceList="$lists/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o Dir::State::Lists="$lists/lists" -o APT::Sandbox::User=root)
  say "installing the CLI plugins ${plugins[*]} from Debian sid"
  if apt-get "${sid[@]}" update -qq \
     && (cd "$lists/debs" && rm -f ./*.deb && apt-get "${sid[@]}" download -qq "${plugins[@]}") \
     && dpkg -i "$lists"/debs/*.deb >/dev/null; then
    say "installed ${plugins[*]}: $(docker buildx version 2>/dev/null | cut -d' ' -f1-2); $(docker compose version 2>/dev/null)"
  else
    say "could not install ${plugins[*]}: builds fall back to the legacy builder, compose to v1"
  fi
fi
if [ ${#browser[@]} -gt 0 ]; then
  say "installing ${browser[*]} (the browser test's headless Chromium)"
  if apt-get install -y -qq --no-install-recommends "${browser[@]}" >/dev/null; then
    say "installed ${browser[*]}"
  else
    say "could not install ${browser[*]}: the browser test will be skipped"
  fi
fi
