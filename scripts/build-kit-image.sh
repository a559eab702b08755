#!/usr/bin/env bash
# Build the kit image (the root Dockerfile) offline: export the offline bundle (every
# catalogue image + the wheelhouse) into build/kit/, then `docker build` with the kit's
# python image as base. Usage: scripts/build-kit-image.sh [TAG]   (default docker-python-lab:latest)
# NO_CACHE=1 rebuilds every layer (to measure a fresh machine's build).
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-docker-python-lab:latest}"
py="${PY:-.venv/bin/python}"
mkdir -p build/kit
if [ ! -f build/kit/lab-bundle.tar.gz ] || [ -n "$(find pyproject.toml labhelpers -newer build/kit/lab-bundle.tar.gz -name '*.py' -o -newer build/kit/lab-bundle.tar.gz -name pyproject.toml | head -1)" ]; then
  echo "build-kit-image: exporting the offline bundle to build/kit/lab-bundle.tar.gz"
  rm -rf build/kit/wheelhouse
  "$py" -m labhelpers prepare >/dev/null   # the base image, and every image the bundle holds
  base_python=$(docker run --rm python:3.11-slim-bookworm python3 -c 'import platform; print(platform.python_version())')
  "$py" -m labhelpers bundle export --python-version "$base_python" build/kit/lab-bundle.tar.gz
else
  echo "build-kit-image: build/kit/lab-bundle.tar.gz is up to date"
fi
echo "build-kit-image: docker build -t $tag ."
start=$(date +%s)
docker build ${NO_CACHE:+--no-cache} -t "$tag" . | grep --line-buffered -E "^(Step|Successfully)" | cut -c1-120
echo "build-kit-image: built $tag in $(( $(date +%s) - start )) s," \
     "$(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"
