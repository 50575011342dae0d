"""``python -m semanscope``: the console script (:func:`semanscope.cli.main`)."""

from semanscope.cli import main

raise SystemExit(main())
