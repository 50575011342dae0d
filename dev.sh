#!/usr/bin/env bash
# One entry point for a fresh machine:  bash dev.sh app   |   bash dev.sh test
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

install_python() {
  # torch first, from the exact CPU pin; otherwise a dependency pulls a multi-GB CUDA build.
  $PY -m pip install -q torch==2.13.0
  $PY -m pip install -q -r requirements-dev.txt
  $PY -m pip install -q --no-deps -e .
}

case "${1:-}" in
  app)
    install_python
    shift
    exec $PY -m streamlit run app.py --server.address 127.0.0.1 "$@"
    ;;
  test)
    install_python
    shift
    export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    exec $PY -m pytest -q "$@"
    ;;
  *)
    echo "usage: bash dev.sh app|test" >&2
    exit 2
    ;;
esac
