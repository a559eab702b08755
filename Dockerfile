# The whole workshop as one image: labhelpers, JupyterLab (with RISE slides), the notebooks,
# and an inner Docker engine that already holds the lab's images. No registry needed.
#
#   make test-image                      # builds it (scripts/build-kit-image.sh), then tests it
#   docker run --privileged -p 8888:8888 -v lab-docker:/var/lib/docker docker-python-lab
#
# Where --privileged is refused ("unable to apply caps"), grant the same explicitly:
#   docker run -p 8888:8888 --cap-add=ALL --cap-drop=SYS_RESOURCE \
#       --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#       -v /sys/fs/cgroup:/sys/fs/cgroup -v lab-docker:/var/lib/docker docker-python-lab
# Then open the URL with the token it prints (or pass -e JUPYTER_TOKEN=...).
# With -v /var/run/docker.sock:/var/run/docker.sock instead, no inner engine is started and
# the notebooks use the host's engine (no extra capabilities needed).
#
# Build context: scripts/build-kit-image.sh exports the offline bundle to build/kit/ first
# (every catalogue image + the wheelhouse); .dockerignore lets only that, notebooks/ and
# docker/ in. The base is the kit's python image: the official one, or its stand-in built
# from Debian packages when no registry is reachable.
ARG BASE=python:3.11-slim-bookworm

# 1. Verify the bundle, install the kit from its wheels (no index), keep the image tarballs.
FROM ${BASE} AS unpack
ENV XDG_CACHE_HOME=/opt/lab/cache PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY build/kit/lab-bundle.tar.gz /tmp/lab-bundle.tar.gz
RUN mkdir /tmp/wheels && tar -xzf /tmp/lab-bundle.tar.gz -C /tmp/wheels wheelhouse \
 && pip install --no-index --find-links /tmp/wheels/wheelhouse 'labhelpers[lab,hub]' \
 && python -m labhelpers bundle import --no-load /tmp/lab-bundle.tar.gz \
 && rm -rf /tmp/wheels /tmp/lab-bundle.tar.gz "$XDG_CACHE_HOME/labhelpers/wheelhouse" \
 && find /usr/local/lib -name __pycache__ -prune -exec rm -rf {} +

# 2. The kit: Debian's docker.io as the inner engine, the installed kit, the notebooks.
FROM ${BASE}
ENV XDG_CACHE_HOME=/opt/lab/cache LABHELPERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        docker.io iptables ca-certificates procps curl \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/*
COPY --from=unpack /usr/local /usr/local
COPY --from=unpack /opt/lab/cache /opt/lab/cache
COPY notebooks /home/lab/notebooks
COPY docker/entrypoint.sh /usr/local/bin/lab-entrypoint
WORKDIR /home/lab/notebooks
VOLUME /var/lib/docker
EXPOSE 8888
LABEL org.opencontainers.image.title="docker-python-lab" \
      org.opencontainers.image.description="Docker and Python workshop: JupyterLab, the notebooks and an inner Docker engine"
ENTRYPOINT ["/usr/local/bin/lab-entrypoint"]
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root"]
