#!/usr/bin/env bash
# Set up glasses on this machine: a virtual environment in .venv with the package, its
# models check, and (where we may) the espeak-ng speech engine. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# mediapipe 0.10.x (hands, faces; offline models) has wheels for CPython 3.9-3.12 only.
pick_python() {
  for py in "${PYTHON:-}" python3.12 python3.11 python3.10 python3; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)'; then
      echo "$py"; return 0
    fi
  done
  return 1
}

# espeak-ng: the speech engine; fonts-wqy-microhei: Hangul/CJK for translated signs.
missing=""
command -v espeak-ng >/dev/null 2>&1 || missing="$missing espeak-ng"
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$missing fonts-wqy-microhei"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
  else
    echo "setup: missing Debian packages:$missing (speech, sign fonts): sudo apt-get install$missing" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  PY=$(pick_python) || { echo "setup: need Python 3.10, 3.11 or 3.12 (mediapipe 0.10 has no wheels for others); set PYTHON=/path/to/python3.x" >&2; exit 1; }
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# [test]: pytest; [build]: onnx + sympy to rebuild the models (glasses models build).
.venv/bin/python -m pip install -q -e ".[test,build]"
.venv/bin/python -m pip check
.venv/bin/glasses models verify
echo "setup: done. Try: .venv/bin/glasses detect models/images/bench/vtest_0300.jpg"
