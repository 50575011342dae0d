"""Streamlit glue shared by the pages, one module per concern:

- :mod:`~semanscope.ui.state`: session keys and widgets whose value survives page switches;
- :mod:`~semanscope.ui.errors`: page set-up and one-line error messages (never a stack trace);
- :mod:`~semanscope.ui.progress`: progress bars for the library's callbacks;
- :mod:`~semanscope.ui.resources`: models, query sets and caches shared by all sessions;
- :mod:`~semanscope.ui.dataset`: the current query set and the sidebar's data filters;
- :mod:`~semanscope.ui.runs`: model picker and model runs (embed with progress, cached scores);
- :mod:`~semanscope.ui.scores`: score tiles, SA charts, the static-vs-contextual section, selections;
- :mod:`~semanscope.ui.views`: projection, display and camera controls;
- :mod:`~semanscope.ui.downloads`: table and figure downloads.

Nothing here computes a result: the pages call these and :mod:`semanscope.appcore`, which holds
the page logic that is testable without Streamlit.
"""
