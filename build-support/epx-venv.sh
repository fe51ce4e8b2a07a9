#!/usr/bin/env bash
# Builds the virtualenv of the real Epistemix client (epx 1.2.2) once, apart from
# simdock's: epx pins numpy<2. Tests run it as a separate process.
#   build-support/epx-venv.sh [DIR]     (default: .venv-epx)
set -euo pipefail
dir="${1:-.venv-epx}"
python="${PYTHON:-python3}"
if [ -f "$dir/.installed" ]; then
    exit 0
fi
"$python" -m venv "$dir"
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check "epx==1.2.2"
"$dir/bin/python" -c "import epx; assert epx.__version__ == '1.2.2', epx.__version__"
touch "$dir/.installed"
