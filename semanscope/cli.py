"""The ``semanscope`` console script (also ``python -m semanscope``).

Commands:

* ``semanscope setup [--only KEY,...] [--cache DIR]`` - build the models derived offline;
* ``semanscope models [--cache DIR]`` - the models, their family and availability;
* ``semanscope study --data builtin|words|cldr|PATH --models all|default|a,b --out DIR
  [--metric cosine,euclidean] [--words auto|builtin|none|PATH] [--pair STATIC,CONTEXTUAL] ...`` - the
  static-vs-contextual study (:mod:`semanscope.study`) written by :mod:`semanscope.report`;
  ``--engine ray [--ray-address ADDR]`` computes it on Ray (:mod:`semanscope.engine`);
* ``semanscope relational --data FILE --models ... [--langs ...] --out DIR`` - Relational Affinity
  of a relation file (:mod:`semanscope.relational_study`, written by :mod:`semanscope.relational_report`).

Messages of third-party libraries that need no action (PHATE's convergence notes, kaleido's
browser driver, library warnings) go to ``<cache>/logs/third-party.log`` (:mod:`semanscope.logs`).

Exit codes: 0 success; 1 nothing succeeded (no model produced scores: degenerate embeddings
give an invalid, NaN score; or a setup step failed); 2 bad arguments (unknown model, language
or topic, missing file), reported in one line without a stack trace. Warnings (loader report,
truncated texts, degenerate embeddings) go to stderr and into report.md.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from semanscope.data.languages import UnknownLanguage, normalize_language
from semanscope.paths import EMBEDDINGS_SUBDIR, PROJECTIONS_SUBDIR, XQUAD_DEFAULT

if TYPE_CHECKING:
    from semanscope.data.queryset import QuerySet

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


def _csv_list(text: str | None) -> list[str] | None:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; None stays None."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semanscope", description="Do a model's embeddings put translations together?"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{setup,models,study,relational}")
    cache_help = "cache folder (built models, embeddings, projections); default <repo>/cache or $SEMANSCOPE_CACHE"

    setup = sub.add_parser("setup", help="build the models that need building")
    setup.add_argument("--only", help="comma-separated model keys to build (default: all that need setup)")
    setup.add_argument("--cache", type=Path, help=cache_help)

    models = sub.add_parser("models", help="list models, their family and availability")
    models.add_argument("--cache", type=Path, help=cache_help)

    study = sub.add_parser("study", help="run the static-vs-contextual study and write a report")
    study.add_argument(
        "--data",
        default="builtin",
        help="'builtin' (FAQ set), 'words', 'cldr' (CLDR names) or a query-set file (default builtin)",
    )
    study.add_argument(
        "--models",
        default="default",
        help="'all' (every available built-in), 'default' (tokenlearn-static and e5-small-int8 when `semanscope "
        "setup` built it within its cosine bar, else e5-small-nano) or comma-separated keys",
    )
    study.add_argument("--langs", help="comma-separated languages to keep (default: all of the set)")
    study.add_argument("--topics", help="comma-separated topics of the main data set to keep (default: all)")
    study.add_argument("--max-concepts", type=int, help="keep at most N concepts of each data set, sampled with --seed")
    study.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the concept sample (default 0)")
    study.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    study.add_argument("--out", type=Path, required=True, help="output folder")
    study.add_argument("--no-figures", action="store_true", help="skip figures (faster)")
    study.add_argument(
        "--xquad",
        default="auto",
        help="XQuAD questions CSV for the ranking comparison; 'auto' uses ../shared/data/xquad/questions.csv "
        "when present, 'none' skips it (default auto)",
    )
    study.add_argument(
        "--words",
        default="auto",
        help="word-level comparison set: 'builtin' (the built-in words), a query-set file, or 'none'; "
        "'auto' (default) = builtin with a built-in --data, none with a file",
    )
    study.add_argument(
        "--metric",
        default="cosine,euclidean",
        help="SA distance metrics, comma-separated, cosine required (default cosine,euclidean)",
    )
    study.add_argument(
        "--pair",
        help="STATIC,CONTEXTUAL: the two model keys every gap compares (default: the best of each family by P@1)",
    )
    study.add_argument("--cache", type=Path, help=cache_help)
    study.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="'local' (one process, default) or 'ray': embed with a Ray actor pool and compute the scores from "
        "per-shard statistics (same numbers); shards go to OUT/ray/",
    )
    study.add_argument(
        "--ray-address",
        help="Ray cluster to join with --engine ray (e.g. ray://head:10001 or auto; default $RAY_ADDRESS, "
        "else a local Ray on this machine's cores)",
    )

    relational = sub.add_parser("relational", help="Relational Affinity of a relation file (*-RA.csv)")
    relational.add_argument(
        "--data", type=Path, required=True, help="relation file: relation_id, category, word1_<lang>, ..."
    )
    relational.add_argument("--models", default="default", help="'all', 'default' or comma-separated model keys")
    relational.add_argument("--langs", help="comma-separated languages to keep (default: all of the file)")
    relational.add_argument("--out", type=Path, required=True, help="output folder")
    relational.add_argument("--cache", type=Path, help=cache_help)
    return parser


# --------------------------------------------------------------------------- helpers
class _Bars:
    """``progress(key, done, total)`` -> one tqdm bar per model (:func:`semanscope.progress.tqdm_progress`;
    the previous one closes)."""

    def __init__(self) -> None:
        self.key: str | None = None
        self._report: Callable[[int, int], None] | None = None
        self._bar = ExitStack()

    def __call__(self, key: str, done: int, total: int) -> None:
        from semanscope.progress import tqdm_progress

        if key != self.key or self._report is None:
            self.close()
            self.key, self._report = key, self._bar.enter_context(tqdm_progress(key))
        self._report(done, total)

    def close(self) -> None:
        self._bar.close()
        self.key, self._report = None, None


def resolve_models(text: str, cache_dir: Path | None) -> list[str]:
    """``all`` -> every built-in key; ``default`` -> the default comparison
    (:func:`~semanscope.models.registry.default_comparison` in ``cache_dir``); else validated keys."""
    from semanscope.models.registry import BUILTIN_KEYS, default_comparison

    if text == "all":
        return list(BUILTIN_KEYS)
    if text == "default":
        return list(default_comparison(cache_dir))
    keys = _csv_list(text) or []
    if not keys:
        raise UsageError("--models needs 'all', 'default' or comma-separated model keys")
    unknown = [k for k in keys if k not in BUILTIN_KEYS]
    if unknown:
        raise UsageError(f"unknown model(s) {', '.join(unknown)}; known models: {', '.join(BUILTIN_KEYS)}")
    if len(set(keys)) != len(keys):
        raise UsageError(f"--models lists a model twice: {text}")
    return keys


def resolve_languages(text: str | None) -> list[str] | None:
    """Normalise ``--langs`` labels to ISO codes (``German`` -> de)."""
    labels = _csv_list(text)
    if labels is None:
        return None
    try:
        return list(dict.fromkeys(normalize_language(label) for label in labels))
    except UnknownLanguage as exc:
        raise UsageError(str(exc)) from None


def load_main(data: str) -> QuerySet:
    """The main query set: ``builtin`` (FAQ), another built-in set (``words``, ``cldr``) or a file
    (:func:`semanscope.data.loaders.load_queryset`, read with a progress bar; what the loader reports,
    e.g. dropped rows or very long texts, goes to stderr)."""
    from semanscope.data.builtin import BUILTIN_SETS, load_builtin
    from semanscope.data.loaders import load_queryset
    from semanscope.data.validation import QuerySetError
    from semanscope.progress import tqdm_progress

    try:
        if data == "builtin":
            return load_builtin("faq")
        if data in BUILTIN_SETS:
            return load_builtin(data)
        path = Path(data)
        if not path.is_file():
            sets = ", ".join(f"'{name}'" for name in BUILTIN_SETS)
            raise UsageError(f"--data: no such file {data!r} (use 'builtin', {sets} or a query-set file)")
        with tqdm_progress(f"reading {path.name}", unit="row") as progress:
            result = load_queryset(path, progress=progress)
        for line in result.report:
            print(f"--data {path.name}: {line}", file=sys.stderr)
        return result.queryset
    except QuerySetError as exc:
        raise UsageError(f"--data: {exc}") from None


def words_source(option: str, data: str) -> Callable[[], QuerySet] | None:
    """The word-level comparison set of ``--words``: ``auto`` = the built-in words unless ``--data``
    is a file (or the words themselves), ``builtin``, ``none`` or a query-set file."""
    from semanscope.data.builtin import BUILTIN_SETS, load_builtin
    from semanscope.data.loaders import load_queryset

    if option == "none" or (option == "auto" and (data == "words" or not (data == "builtin" or data in BUILTIN_SETS))):
        return None
    if option in ("auto", "builtin"):
        return lambda: load_builtin("words")
    path = Path(option)
    if not path.is_file():
        raise UsageError(f"--words: no such file {option!r} (use auto, builtin, none or a query-set file)")
    return lambda: load_queryset(path, name="words").queryset


def xquad_path(option: str) -> Path | None:
    """``auto`` -> the shared XQuAD file when present; ``none`` -> None; else an existing file."""
    if option == "none":
        return None
    if option == "auto":
        return XQUAD_DEFAULT if XQUAD_DEFAULT.is_file() else None
    path = Path(option)
    if not path.is_file():
        raise UsageError(f"--xquad: no such file {option!r}")
    return path


def build_querysets(args: argparse.Namespace, languages: list[str] | None) -> tuple[dict[str, QuerySet], list[str]]:
    """Role -> selected query set (main, then words and xquad on the languages shared with main),
    and notes on comparison sets that were skipped."""
    from semanscope.data.loaders import load_queryset
    from semanscope.data.validation import QuerySetError
    from semanscope.study import select_queryset

    main = load_main(args.data)
    if languages is not None:
        missing = [lang for lang in languages if lang not in main.languages]
        if missing:
            raise UsageError(f"--langs: {main.name} has no {', '.join(missing)}; it has {', '.join(main.languages)}")
    topics = _csv_list(args.topics)
    select = dict(max_concepts=args.max_concepts, seed=args.seed)
    try:
        main = select_queryset(main, languages=languages, topics=topics, **select)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    sets, notes = {"main": main}, []
    extra: dict[str, Callable[[], QuerySet]] = {}
    words = words_source(args.words, args.data)
    if words is not None and main.name != "words":
        extra["words"] = words
    path = xquad_path(args.xquad)
    if path is not None:
        extra["xquad"] = lambda: load_queryset(path, name="xquad").queryset
    elif args.xquad == "auto":
        notes.append(f"XQuAD comparison skipped: {XQUAD_DEFAULT} not found")
    for role, load in extra.items():
        try:
            qs = load()
        except QuerySetError as exc:
            raise UsageError(f"--{role}: {exc}") from None
        shared = [lang for lang in main.languages if lang in qs.languages]
        if len(shared) < 2:
            notes.append(f"{role} comparison skipped: it shares fewer than 2 languages with {main.name}")
            continue
        try:
            sets[role] = select_queryset(qs, languages=shared, **select)
        except ValueError as exc:
            notes.append(f"{role} comparison skipped: {exc}")
    return sets, notes


# --------------------------------------------------------------------------- commands
def cmd_setup(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from semanscope.models.setup import SETUP_KEYS, run_setup
    from semanscope.progress import tqdm_progress

    only = _csv_list(args.only)
    if only is not None:
        unknown = [k for k in only if k not in SETUP_KEYS]
        if unknown:
            raise UsageError(
                f"--only: {', '.join(unknown)}: not a model that setup builds; it builds {', '.join(SETUP_KEYS)}"
            )
    with tqdm_progress("setup", unit="step") as progress:
        results = run_setup(args.cache, only=only, progress=progress, log=tqdm.write)
    failed = [r for r in results if r.status == "failed"]
    return EXIT_FAILED if failed else EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from semanscope.models.registry import list_models

    rows = [("key", "family", "dim", "status", "note")]
    for info in list_models(args.cache):
        note = info.fix or ("English-only control" if info.english_only else "")
        rows.append((info.key, info.family, str(info.dim or "?"), info.status, note))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[4])
    return EXIT_OK


def resolve_metrics(option: str) -> tuple[str, ...]:
    """``--metric``: comma-separated SA metrics, cosine first (:func:`semanscope.study.check_sa_metrics`)."""
    from semanscope.study import check_sa_metrics

    try:
        return check_sa_metrics(_csv_list(option) or [])
    except ValueError as exc:
        raise UsageError(f"--metric: {exc}") from None


def resolve_pair(option: str | None, keys: Sequence[str]) -> tuple[str, str] | None:
    """``--pair STATIC,CONTEXTUAL``: two distinct model keys among the studied ``keys``."""
    if option is None:
        return None
    pair = _csv_list(option) or []
    if len(pair) != 2 or pair[0] == pair[1]:
        raise UsageError(f"--pair needs two different model keys STATIC,CONTEXTUAL, got {option!r}")
    missing = [k for k in pair if k not in keys]
    if missing:
        raise UsageError(f"--pair: {', '.join(missing)} not among the studied models ({', '.join(keys)})")
    return pair[0], pair[1]


def cmd_study(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.n_boot < 0:
        raise UsageError(f"--n-boot must be >= 0, got {args.n_boot}")
    if args.max_concepts is not None and args.max_concepts < 3:
        raise UsageError(f"--max-concepts must be at least 3, got {args.max_concepts}")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out: {args.out} exists and is not a folder")
    keys = resolve_models(args.models, args.cache)
    languages = resolve_languages(args.langs)
    if languages is not None and len(languages) < 2:
        raise UsageError(f"--langs needs at least 2 languages, got {', '.join(languages)}")
    metrics, pair = resolve_metrics(args.metric), resolve_pair(args.pair, keys)
    querysets, notes = build_querysets(args, languages)

    from semanscope.cache import EmbeddingCache
    from semanscope.models.registry import default_cache_dir
    from semanscope.report import write_report
    from semanscope.study import StudyOptions, run_suite

    cache_dir = args.cache if args.cache is not None else default_cache_dir()
    runner, started_ray = None, False
    if args.engine == "ray":
        from semanscope.engine.ray_engine import connect
        from semanscope.engine.study_runner import RayRunner

        try:
            started_ray = connect(args.ray_address)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UsageError(f"--engine ray: cannot start or join Ray ({type(exc).__name__}: {exc})") from None
        runner = RayRunner(args.out / "ray", cache_dir / EMBEDDINGS_SUBDIR)
    elif args.ray_address:
        raise UsageError("--ray-address needs --engine ray")
    bars = _Bars()
    with EmbeddingCache(cache_dir / EMBEDDINGS_SUBDIR) as cache:
        try:
            options = StudyOptions(
                cache=cache,
                model_dir=args.cache,
                seed=args.seed,
                n_boot=args.n_boot,
                progress=bars,
                runner=runner,
                metrics=metrics,
                pair=pair,
            )
            suite = run_suite(querysets, keys, options)
        finally:
            bars.close()
            if started_ray:
                import ray

                ray.shutdown()
    settings = {
        "command": ["semanscope", *argv],
        "data": args.data,
        "models": args.models,
        "languages": languages,
        "topics": _csv_list(args.topics),
        "max_concepts": args.max_concepts,
        "seed": args.seed,
        "n_boot": args.n_boot,
        "xquad": args.xquad,
        "words": args.words,
        "metrics": list(metrics),
        "pair": list(pair) if pair else None,
        "figures": not args.no_figures,
        "engine": args.engine,
    }
    written = write_report(
        suite,
        args.out,
        settings=settings,
        notes=notes,
        figures=not args.no_figures,
        projection_dir=cache_dir / PROJECTIONS_SUBDIR,
        log=lambda message: print(message, file=sys.stderr),
    )
    for run in suite.main.runs:
        if not run.ok or run.message:
            print(f"{run.key}: {run.score_status}: {run.message}", file=sys.stderr)
    print(f"wrote {len(written)} files to {args.out} (report: {args.out / 'report.md'})")
    return EXIT_OK if any(r.ok and math.isfinite(r.sa) for r in suite.main.runs) else EXIT_FAILED


def cmd_relational(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from semanscope.data.validation import QuerySetError
    from semanscope.models.registry import default_cache_dir
    from semanscope.relational_report import run_relational_files

    if not args.data.is_file():
        raise UsageError(f"--data: no such file {str(args.data)!r}")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out: {args.out} exists and is not a folder")
    keys = resolve_models(args.models, args.cache)
    cache_dir = args.cache if args.cache is not None else default_cache_dir()
    bars = _Bars()
    try:
        study, _ = run_relational_files(
            args.data,
            keys,
            args.out,
            languages=resolve_languages(args.langs),
            cache_dir=cache_dir / EMBEDDINGS_SUBDIR,
            model_dir=args.cache,
            command=["semanscope", *argv],
            progress=bars,
            log=lambda message: print(f"--data {message}", file=sys.stderr),
        )
    except QuerySetError as exc:
        raise UsageError(f"--data: {exc}") from None
    finally:
        bars.close()
    for run in study.runs:
        if not run.ok or run.message:
            print(f"{run.key}: {run.status}: {run.message}", file=sys.stderr)
    print(
        f"wrote Relational Affinity of {len(study.ok_runs)} model(s) to {args.out} (report: {args.out / 'report.md'})"
    )
    return EXIT_OK if study.ok_runs else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage line on malformed arguments
    from semanscope.logs import quiet_third_party
    from semanscope.models.registry import default_cache_dir

    quiet_third_party((args.cache if args.cache is not None else default_cache_dir()) / "logs")
    try:
        if args.command == "setup":
            return cmd_setup(args)
        if args.command == "models":
            return cmd_models(args)
        if args.command == "relational":
            return cmd_relational(args, argv)
        return cmd_study(args, argv)
    except UsageError as exc:
        print(f"semanscope {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
