"""Semanscope: do a model's embeddings put translations together?

Semanscope runs offline: importing it sets ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1``
(before any Hugging Face library reads them), so a model name that is not in the local cache
fails with a clear message instead of reaching the network. Set ``SEMANSCOPE_ALLOW_DOWNLOADS=1``
to let sentence-transformers models download from the hub.
"""

import os

__version__ = "0.1.0"

ALLOW_DOWNLOADS_ENV = "SEMANSCOPE_ALLOW_DOWNLOADS"

if os.environ.get(ALLOW_DOWNLOADS_ENV) != "1":
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
