"""Third-party chatter goes to <cache>/logs/third-party.log; Semanscope's own warnings stay visible."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys, warnings
sys.path.insert(0, sys.argv[2])
from semanscope.logs import quiet_third_party
print("log:", quiet_third_party(sys.argv[1]))
import tasklogger
tasklogger.get_tasklogger("graphtools").log_warning("SGD-MDS may not have converged")
import thirdparty  # a module outside semanscope/ that warns, like graphtools or scikit-learn
thirdparty.warn()
from semanscope.cache import CacheUnavailableWarning
warnings.warn("cannot write the cache", CacheUnavailableWarning)  # raised from semanscope-free code here
import semanscope.cache.problems as problems
problems.warnings.warn("semanscope's own", CacheUnavailableWarning)
"""


def test_third_party_messages_go_to_the_log_file(tmp_path):
    (tmp_path / "thirdparty.py").write_text(
        "import warnings\n\ndef warn():\n    warnings.warn('Building a kNNGraph is expensive', UserWarning)\n"
    )
    logs = tmp_path / "logs"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(logs), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr
    logged = (logs / "third-party.log").read_text(encoding="utf-8")
    assert "SGD-MDS may not have converged" in logged and "kNNGraph is expensive" in logged
    terminal = out.stdout + out.stderr
    assert "SGD-MDS" not in terminal and "kNNGraph" not in terminal
    assert f"log: {logs / 'third-party.log'}" in out.stdout


def test_an_unwritable_folder_leaves_messages_on_the_terminal(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    probe = "from semanscope.logs import quiet_third_party; print(quiet_third_party(__import__('sys').argv[1]))"
    out = subprocess.run(
        [sys.executable, "-c", probe, str(blocker / "logs")], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.stdout.strip() == "None"
