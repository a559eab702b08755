# The whole workshop as one image: labhelpers, JupyterLab (with RISE slides), the notebooks,
# and an inner Docker engine that already holds the lab's images. No registry needed.
# The inner engine is today's: Docker Engine 28 from Debian sid (with its CLI, the buildx and
# compose v2 plugins), started with Docker 29's defaults (minimum API 1.44, containerd image
# store) and with moby's cgroup-v2 nesting step (docker/entrypoint.sh).
#
#   make test-image                      # builds it (scripts/build-kit-image.sh), then tests it
#   docker run --privileged -p 8888:8888 -v lab-docker:/var/lib/docker docker-python-lab
#
# Where --privileged is refused ("unable to apply caps"), grant the same explicitly; Engine 28
# writes IPv6 sysctls in each of its containers, so /proc/sys must be writable too
# (systempaths=unconfined, which --privileged implies):
#   docker run -p 8888:8888 --cap-add=ALL --cap-drop=SYS_RESOURCE \
#       --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#       --security-opt systempaths=unconfined \
#       -v /sys/fs/cgroup:/sys/fs/cgroup -v lab-docker:/var/lib/docker docker-python-lab
# Then open the URL with the token it prints (or pass -e JUPYTER_TOKEN=...).
# With -v /var/run/docker.sock:/var/run/docker.sock instead, no inner engine is started and
# the notebooks use the host's engine (no extra capabilities needed).
#
# Build context: scripts/build-kit-image.sh exports the offline bundle to build/kit/ first
# (every catalogue image + the wheelhouse) and the sample apps' wheels; .dockerignore lets
# only those, notebooks/ and docker/ in. The base is the kit's python image: the official
# one, or its stand-in built from Debian packages when no registry is reachable. Either
# builder works (BuildKit, or the legacy one of older engines).
ARG BASE=python:3.13-slim-trixie

# 1. Verify the bundle, install the kit from its wheels (no index), keep the image tarballs.
#    pytest and nbval too (a few MB): the kit validates its own notebooks (make test-image).
FROM ${BASE} AS unpack
ENV XDG_CACHE_HOME=/opt/lab/cache PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY build/kit/lab-bundle.tar.gz /tmp/lab-bundle.tar.gz
RUN mkdir /tmp/wheels && tar -xzf /tmp/lab-bundle.tar.gz -C /tmp/wheels wheelhouse \
 && pip install --no-index --find-links /tmp/wheels/wheelhouse 'labhelpers[builds,clients,lab,machines,hub]' pytest nbval \
 && python -m labhelpers bundle import --no-load /tmp/lab-bundle.tar.gz \
 && rm -rf /tmp/wheels /tmp/lab-bundle.tar.gz "$XDG_CACHE_HOME/labhelpers/wheelhouse" \
 && find /usr/local/lib -name __pycache__ -prune -exec rm -rf {} +

# 2. The kit: Docker Engine 28 from Debian sid as the inner engine, the installed kit, the
#    notebooks. trixie (Debian 13) has Engine 26; sid shares trixie's libc, so one apt source
#    line for sid, pinned to the Docker packages alone, brings 28 with the rest from trixie.
#    systemd-standalone-sysusers satisfies docker.io's "systemd | ..." without systemd.
#    check-valid-until=no: a mirror frozen at a snapshot serves a sid Release whose
#    one-week validity has passed (signatures are still checked).
FROM ${BASE}
ENV XDG_CACHE_HOME=/opt/lab/cache LABHELPERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN set -e; \
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || :); \
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list); \
    echo "deb [check-valid-until=no] $mirror sid main" > /etc/apt/sources.list.d/sid.list; \
    printf '%s\n' 'Package: docker.io docker-cli docker-buildx docker-compose tini-static' \
        'Pin: release n=sid' 'Pin-Priority: 990' '' \
        'Package: *' 'Pin: release n=sid' 'Pin-Priority: 100' > /etc/apt/preferences.d/docker-from-sid; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        docker.io docker-cli docker-buildx docker-compose systemd-standalone-sysusers \
        iptables ca-certificates procps curl openssh-client; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/*; \
    mkdir -p /etc/docker; \
    echo '{"features": {"containerd-snapshotter": true}}' > /etc/docker/daemon.json
COPY --from=unpack /usr/local /usr/local
COPY --from=unpack /opt/lab/cache /opt/lab/cache
# The sample apps' wheels: notebooks 01 and 06 download their apps' wheels, which pip finds
# here when no index answers. An offline kit: pip does not wait on an index it cannot reach
# (no retries, 5 s timeout). Not no-index: with a network pip still uses its index.
COPY build/kit/app-wheels /opt/lab/wheels
ENV PIP_FIND_LINKS=/opt/lab/wheels PIP_RETRIES=0 PIP_TIMEOUT=5
COPY notebooks /home/lab/notebooks
COPY docker/entrypoint.sh /usr/local/bin/lab-entrypoint
WORKDIR /home/lab/notebooks
VOLUME /var/lib/docker
EXPOSE 8888
LABEL org.opencontainers.image.title="docker-python-lab" \
      org.opencontainers.image.description="Docker and Python workshop: JupyterLab, the notebooks and an inner Docker engine"
ENTRYPOINT ["/usr/local/bin/lab-entrypoint"]
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root"]
