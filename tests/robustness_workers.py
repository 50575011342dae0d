"""Worker processes for tests/test_robustness_cache.py (no pytest import, so they start fast).

``python tests/robustness_workers.py app|cli JOB`` with ``JOB`` a JSON object:
``cache`` (the Semanscope cache folder), ``start`` and ``done`` (signal files), ``views``
(comma-separated languages, one app session each) and ``cli`` (the CLI's arguments).

* ``cli``: waits for ``start``, runs ``semanscope.cli.main(cli)``, then creates ``done``.
* ``app``: one app server process: one shared :class:`EmbeddingCache` (as
  ``ui.embedding_cache``) and one thread per session, each embedding its own language view of
  the built-in FAQ set with tokenlearn-static after ``start``. Once the CLI is ``done`` too, it
  checks that the cache holds exactly one entry per text of the sessions' and the CLI's query
  sets, each equal to the model's own vector.

The exit code is 0 only when everything succeeded.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

VIEW_CONCEPTS = 20


def wait_for(signal: Path, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not signal.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{signal} never appeared")
        time.sleep(0.01)


def app(job: dict) -> int:
    import numpy as np

    from semanscope import appcore, cli
    from semanscope.cache import EmbeddingCache
    from semanscope.data.builtin import load_builtin
    from semanscope.embeddings import embed_queryset
    from semanscope.models.registry import load_model
    from semanscope.paths import EMBEDDINGS_SUBDIR

    model = load_model("tokenlearn-static")
    faq = load_builtin("faq")
    views = [appcore.select(faq, v.split(","), max_concepts=VIEW_CONCEPTS) for v in job["views"]]
    directory = Path(job["cache"]) / EMBEDDINGS_SUBDIR
    cache = EmbeddingCache(directory)
    failures: list[str] = []

    def session(view) -> None:
        try:
            embed_queryset(view, model, cache, batch_size=8)
        except BaseException as exc:  # reported through the exit code
            failures.append(f"session failed: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(view,)) for view in views]
    wait_for(Path(job["start"]))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.close()

    wait_for(Path(job["done"]))
    args = cli.build_parser().parse_args(job["cli"])
    sets = views + list(cli.build_querysets(args, cli.resolve_languages(args.langs))[0].values())
    texts = sorted({t for qs in sets for t in qs.items().texts})
    with EmbeddingCache(directory) as cache:
        vectors, hit = cache.get_many(model, texts)
        entries = cache.stats().entries
    if not hit.all() or entries != len(texts):
        failures.append(f"cache holds {entries} entries, {int(hit.sum())} of the {len(texts)} texts")
    elif not np.allclose(vectors, model.encode(texts), atol=1e-6):
        failures.append("a cached vector differs from the model's")
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


def run_cli(job: dict) -> int:
    from semanscope import cli

    wait_for(Path(job["start"]))
    try:
        return cli.main(job["cli"])
    finally:
        Path(job["done"]).touch()


if __name__ == "__main__":
    role, job = sys.argv[1], json.loads(sys.argv[2])
    sys.exit(app(job) if role == "app" else run_cli(job))
