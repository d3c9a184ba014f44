#!/usr/bin/env bash
# Creates (or reuses) the project's virtual environment and installs microexp with pinned deps.
# Usage: tools/install.sh [VENV_DIR]   (default: .venv in the repository root). Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q --upgrade pip
# torch first, pinned to the CPU wheel on disk: anything looser makes pip fetch a CUDA build.
python -m pip install -q torch==2.13.0
# spikingjelly 2.0.0 without its torchvision/torchaudio/tensorboard requirements:
# `spikingjelly.activation_based` imports without them.
python -m pip install -q --no-deps spikingjelly==2.0.0
python -m pip install -q -e "$root[dev]"
python -c "import microexp, torch, spikingjelly.activation_based; print('microexp', microexp.__version__, 'torch', torch.__version__)"
# numba's on-disk cache, compiled now rather than by the first live session (microexp/warmup.py)
python -c "from microexp.warmup import warm_jit_caches as w; print('numba kernels cached:', ', '.join(w()) or 'no numba')"
