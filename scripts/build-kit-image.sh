#!/usr/bin/env bash
# Build the kit image (the root Dockerfile) offline: export the offline bundle (every
# catalogue image + the wheelhouse) into build/kit/, then `docker build` with the kit's
# python image as base. Usage: scripts/build-kit-image.sh [TAG]   (default docker-python-lab:latest)
# NO_CACHE=1 rebuilds every layer (to measure a fresh machine's build).
# Works with either builder: BuildKit (CLI 23+ with the buildx plugin, progress on stderr as
# "#N [stage i/n] ...") or the legacy builder ("Step i/n : ...", "Successfully built"). Both
# write everything to build/kit/build.log; the terminal gets one line per step.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-docker-python-lab:latest}"
py="${PY:-.venv/bin/python}"
mkdir -p build/kit
base=$("$py" -c 'from labhelpers.images import CATALOGUE; print(CATALOGUE["python"].ref)')
if [ ! -f build/kit/lab-bundle.tar.gz ] || [ -n "$(find pyproject.toml labhelpers -newer build/kit/lab-bundle.tar.gz -name '*.py' -o -newer build/kit/lab-bundle.tar.gz -name pyproject.toml | head -1)" ]; then
  echo "build-kit-image: exporting the offline bundle to build/kit/lab-bundle.tar.gz"
  rm -rf build/kit/wheelhouse
  "$py" -m labhelpers prepare >/dev/null   # the base image, and every image the bundle holds
  full_python=$(docker run --rm "$base" python3 -c 'import platform; print(platform.python_version())')
  "$py" -m labhelpers bundle export --python-version "$full_python" build/kit/lab-bundle.tar.gz
else
  echo "build-kit-image: build/kit/lab-bundle.tar.gz is up to date"
fi
# The sample apps' dependencies, as wheels for the image's Python: inside the kit the
# notebooks build their app images offline (pip finds them through PIP_FIND_LINKS).
base_python=$(docker run --rm "$base" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
kit_python=$("$py" -c 'from labhelpers.wheelhouse import PYTHON_VERSION; print(PYTHON_VERSION)')
arch=$(docker version --format '{{.Server.Arch}}' | sed -e 's/amd64/x86_64/' -e 's/arm64/aarch64/')
rm -rf build/kit/app-wheels && mkdir -p build/kit/app-wheels
versions=$(printf '%s\n' "$base_python" "$kit_python" | sort -u | xargs)
for version in $versions; do
  for req in notebooks/apps/*/requirements.txt labhelpers/data/*/app/requirements.txt; do
    [ -f "$req" ] || continue
    "$py" -m pip download -q --disable-pip-version-check --only-binary=:all: --implementation cp \
      --python-version "$version" --platform "manylinux2014_$arch" --platform "manylinux_2_17_$arch" \
      --dest build/kit/app-wheels -r "$req" 2>&1 | grep -v "is ignored" || true
  done
done
echo "build-kit-image: $(ls build/kit/app-wheels | wc -l) wheels of the sample apps (Python $versions, $arch)"
echo "build-kit-image: docker build -t $tag --build-arg BASE=$base ."
start=$(date +%s)
# BuildKit prints plain progress when its output is not a terminal; the legacy builder
# ignores BUILDKIT_PROGRESS.
set +e
: > build/kit/build.log
BUILDKIT_PROGRESS=plain docker build ${NO_CACHE:+--no-cache} --build-arg "BASE=$base" -t "$tag" . \
  > build/kit/build.log 2>&1 &
build=$!
tail -n +1 --pid="$build" -f build/kit/build.log 2>/dev/null \
  | grep --line-buffered -E '^(Step [0-9]+/[0-9]+ :|Successfully (built|tagged)|#[0-9]+ \[[^]]+\] |#[0-9]+ (naming to|writing image|ERROR))' \
  | grep --line-buffered -v '^#[0-9]* \[internal\]' | awk '!seen[$0]++ { print substr($0, 1, 120); fflush() }'
wait "$build"
code=$?
set -e
if [ "$code" -ne 0 ]; then
  echo "build-kit-image: docker build failed (exit $code); the end of build/kit/build.log:"
  tail -n 30 build/kit/build.log
  exit "$code"
fi
# The size as the engine reports it (on the containerd image store: its content, compressed).
echo "build-kit-image: built $tag in $(( $(date +%s) - start )) s," \
     "$(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"
