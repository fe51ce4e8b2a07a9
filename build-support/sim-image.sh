#!/usr/bin/env bash
# Builds the sample simulation image (default name sim:local) without a registry:
# a minimal Debian root filesystem made by debootstrap from the Debian packages the
# machine is configured with, with python3 and numpy, plus sim/, then `docker import`.
# The same image as `docker build -t sim:local sim/` where a registry can be reached.
#
#   build-support/sim-image.sh [IMAGE]          (needs root, debootstrap and a Docker engine)
#
# The root filesystem is cached in $SIM_ROOTFS_CACHE (default /var/cache/simdock/rootfs):
# a second build only copies sim/ in again and imports (seconds, not a minute).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
SOURCES=("$HERE"/sim/heat1d.py "$HERE"/sim/run_sim.py "$HERE"/sim/png.py "$HERE"/sim/monte_carlo.py)
# What the image is made of, as a label: a CI run rebuilds an image whose label differs.
DIGEST="$(cat "${SOURCES[@]}" "$0" | sha256sum | cut -c1-16)"
if [ "${1:-}" = "--digest" ]; then
    echo "$DIGEST"
    exit 0
fi
IMAGE="${1:-sim:local}"
SUITE="${SIM_IMAGE_SUITE:-bookworm}"
MIRROR="${SIM_IMAGE_MIRROR:-http://deb.debian.org/debian}"
CACHE="${SIM_ROOTFS_CACHE:-/var/cache/simdock/rootfs}"

command -v debootstrap >/dev/null || { echo "needs debootstrap: apt-get install -y debootstrap" >&2; exit 2; }
command -v docker >/dev/null || { echo "needs the docker client" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 2; }

if [ ! -x "$CACHE/usr/bin/python3" ]; then
    rm -rf "$CACHE.partial"
    mkdir -p "$(dirname "$CACHE")"
    debootstrap --variant=minbase --include=python3,python3-numpy "$SUITE" "$CACHE.partial" "$MIRROR"
    # What a simulation never needs: package caches and lists, documentation, locales.
    rm -rf "$CACHE.partial"/var/cache/apt/* "$CACHE.partial"/var/lib/apt/lists/* \
           "$CACHE.partial"/usr/share/doc/* "$CACHE.partial"/usr/share/man/* \
           "$CACHE.partial"/usr/share/locale/* "$CACHE.partial"/usr/share/info/*
    mv "$CACHE.partial" "$CACHE"
fi

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -a "$CACHE"/. "$STAGE"/
mkdir -p "$STAGE/opt/sim" "$STAGE/output"
cp "${SOURCES[@]}" "$STAGE/opt/sim/"
chmod 0777 "$STAGE/output"
# The same entry point and working directory as sim/Dockerfile.
tar -C "$STAGE" -c . | docker import \
    --change 'ENTRYPOINT ["python3", "/opt/sim/run_sim.py"]' \
    --change 'WORKDIR /opt/sim' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OUTPUT_DIR=/output' \
    --change 'USER 65534:65534' \
    --change "LABEL io.simdock.sim=$DIGEST" \
    --message "simdock sample simulations ($SUITE, python3 and numpy)" - "$IMAGE" >/dev/null
echo "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
