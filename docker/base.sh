#!/usr/bin/env bash
# Build a local Python base image where Docker Hub can't be reached:
#   docker/base.sh [TAG]          (default local/python:3.11-bookworm; skipped if it exists)
# debootstrap makes a minimal Debian bookworm with python3, python3-venv and pip. The
# machine's CA bundle (the one pip's `cert` setting names) and pip's index settings are
# copied in, so that pip inside `docker build --network host` reaches PyPI the way pip on
# this machine does (through a proxy that only this bundle trusts). About 1.5 minutes.
set -euo pipefail

TAG=${1:-${BASE_IMAGE:-local/python:3.11-bookworm}}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "base: $TAG exists, skipping"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "base: debootstrap is missing (apt-get install -y debootstrap)" >&2; exit 1; }

pip_get() { python3 -m pip config get "$1" 2>/dev/null || true; }
CERT=$(pip_get global.cert)
CERT=${CERT:-${PIP_CERT:-}}
[ -n "$CERT" ] || CERT=/etc/ssl/certs/ca-certificates.crt
[ -f "$CERT" ] || { echo "base: CA bundle $CERT not found" >&2; exit 1; }
CERT=$(readlink -f "$CERT")

DIR=$(mktemp -d /tmp/newsbot-base.XXXXXX)
cleanup() {
    # debootstrap mounts /proc and /sys inside DIR; never delete through a mount
    for m in proc sys dev/pts; do umount -l "$DIR/$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$DIR" "$DIR.log"
}
trap cleanup EXIT
echo "base: debootstrap bookworm into $DIR"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$DIR" "$MIRROR" >"$DIR.log" 2>&1 || { tail -20 "$DIR.log" >&2; exit 1; }
ln -sf python3 "$DIR/usr/bin/python"

# The CA bundle, at the same path (it replaces Debian's own bundle there, a superset here).
mkdir -p "$DIR$(dirname "$CERT")"
cp "$CERT" "$DIR$CERT"

# pip's settings that matter for reaching the registry. Local file:// indexes and
# find-links directories don't exist inside the build, so they are left out.
{
    echo "[global]"
    echo "cert = $CERT"
    for key in index-url extra-index-url trusted-host timeout; do
        value=$(pip_get "global.$key")
        [ -n "$value" ] || continue
        if [ "$key" = extra-index-url ] || [ "$key" = index-url ]; then
            value=$(tr ' ' '\n' <<<"$value" | grep -E '^https?://' | tr '\n' ' ' || true)
            value=${value% }
            [ -n "$value" ] || continue
        fi
        echo "$key = $value"
    done
} >"$DIR/etc/pip.conf"
echo "base: pip.conf in the image:"; sed 's/^/  /' "$DIR/etc/pip.conf"

# Slim: apt lists, docs and man pages aren't needed in a base image.
rm -rf "$DIR"/var/lib/apt/lists/* "$DIR"/var/cache/apt/*.bin "$DIR"/usr/share/doc/* \
    "$DIR"/usr/share/man/* "$DIR"/usr/share/locale/*

tar -C "$DIR" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    -c 'CMD ["python3"]' - "$TAG" >/dev/null
echo "base: imported $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
