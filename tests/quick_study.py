"""The fast ``semanscope study`` command line the robustness tests run."""

from __future__ import annotations

from pathlib import Path

QUICK = ("--n-boot", "0", "--no-figures", "--xquad", "none")  # no bootstrap, figures or XQuAD comparison


def quick_study_argv(data: str | Path, out: Path, cache: Path, *options: str) -> list[str]:
    """``semanscope study`` arguments: tokenlearn-static on ``data`` (a file, ``builtin`` or
    ``words``), written to ``out`` with the cache in ``cache``, plus ``options`` (e.g. ``--langs``)."""
    return [
        "study",
        "--data",
        str(data),
        "--models",
        "tokenlearn-static",
        *options,
        *QUICK,
        "--out",
        str(out),
        "--cache",
        str(cache),
    ]
