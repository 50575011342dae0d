"""Semanscope never reaches a model hub unless the user opts in (SEMANSCOPE_ALLOW_DOWNLOADS=1)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A hub id that is not in the local cache, loaded with every socket look-up made to fail loudly:
# the outcome must be a clear ModelUnavailable, with no attempt to resolve a host name.
PROBE = """
import socket

def refuse(*args, **kwargs):
    raise SystemExit("network look-up attempted: " + repr(args[:1]))

socket.getaddrinfo = refuse
import semanscope
import huggingface_hub.constants as hub
from semanscope.models.base import ModelUnavailable
from semanscope.models.sentence_transformer import STEmbedder

print("offline", hub.HF_HUB_OFFLINE)
try:
    STEmbedder("org/remote-code-model")
except ModelUnavailable as exc:
    print("unavailable:", exc)
"""


def run_probe(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env={**clean, **env}, cwd=ROOT
    )


def test_importing_semanscope_forces_offline_and_a_hub_name_fails_without_network():
    out = run_probe(HF_HUB_OFFLINE="0")  # even an explicit 0 is overridden without the opt-in
    assert out.returncode == 0, out.stderr
    assert "offline True" in out.stdout
    assert "unavailable: sentence-transformers model 'org/remote-code-model' is not in the local" in out.stdout
    assert "network look-up attempted" not in out.stdout + out.stderr


def test_downloads_only_with_the_opt_in():
    out = run_probe(SEMANSCOPE_ALLOW_DOWNLOADS="1")
    assert "offline False" in out.stdout
    assert "network look-up attempted" in out.stdout + out.stderr  # it tried the hub: allowed now
