#!/usr/bin/env bash
# Installs what `pants` needs on this machine, from PyPI only; safe to run again.
#
#   .pants-venv/                 Pants 2.17.1 in a Python 3.9 virtualenv (its only wheel is cp39)
#   build-support/pex-2.1.137.pex  the pex tool Pants runs, built from PyPI instead of the
#                                  GitHub download Pants would otherwise attempt (not committed)
#
# Then: build-support/pants package //:migration-runner   (writes dist/migration-runner.pex)
set -euo pipefail
cd "$(dirname "$0")/.."

PANTS_VERSION=2.17.1
PEX_VERSION=2.1.137
PEX_SHA256=4d9441e1672e636527ea430e8c59b0884d823dd8ce61ba3f8ecaa443a215087f
VENV=.pants-venv
PEX_TOOL=build-support/pex-${PEX_VERSION}.pex

find_python39() {
    local candidate
    for candidate in "${PANTS_PYTHON:-}" /root/.pyenv/versions/3.9.18/bin/python3.9 \
        "$(command -v python3.9 || true)" /root/.pyenv/versions/3.9*/bin/python3.9 \
        /usr/bin/python3.9 /usr/local/bin/python3.9; do
        if [[ -n "$candidate" && -x "$candidate" ]] \
            && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# The machine's pip configuration (extra indexes, find-links, constraints) is not the project's:
# install from PyPI alone, trusting the system CA bundle.
export PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_DISABLE_PIP_VERSION_CHECK=1
if [[ -r /etc/ssl/certs/ca-certificates.crt ]]; then
    export PIP_CERT=/etc/ssl/certs/ca-certificates.crt
fi

if [[ ! -x "$VENV/bin/pants" ]] \
    || [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("pantsbuild.pants"))' 2>/dev/null)" != "$PANTS_VERSION" ]]; then
    if ! PYTHON39=$(find_python39); then
        echo "install-pants.sh: Pants $PANTS_VERSION needs Python 3.9 (set PANTS_PYTHON=/path/to/python3.9)" >&2
        exit 3
    fi
    rm -rf "$VENV"
    "$PYTHON39" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "pantsbuild.pants==$PANTS_VERSION" "pex==$PEX_VERSION"
fi
if [[ ! -x "$VENV/bin/pex" ]]; then
    "$VENV/bin/pip" install --quiet "pex==$PEX_VERSION"
fi

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
if [[ ! -f "$PEX_TOOL" ]] || [[ "$(sha256_of "$PEX_TOOL")" != "$PEX_SHA256" ]]; then
    # Reproducible: the same bytes every time, so pants.toml can pin its sha256.
    # --no-strip-pex-env keeps the PEX_ROOT that Pants sets for the tool.
    "$VENV/bin/pex" "pex==$PEX_VERSION" --disable-cache --no-build --no-compile \
        --no-use-system-time --python-shebang '/usr/bin/env python' --no-strip-pex-env \
        --include-tools -c pex -o "$PEX_TOOL.tmp"
    mv "$PEX_TOOL.tmp" "$PEX_TOOL"
    if [[ "$(sha256_of "$PEX_TOOL")" != "$PEX_SHA256" ]]; then
        echo "install-pants.sh: $PEX_TOOL has sha256 $(sha256_of "$PEX_TOOL"), expected $PEX_SHA256" >&2
        exit 1
    fi
fi
echo "Pants $PANTS_VERSION ready: build-support/pants package //:migration-runner"
