"""An OpenAI-compatible ``/v1/embeddings`` endpoint as a model (OpenAI, Ollama, vLLM, TEI, ...).

Request: ``POST <base_url>/embeddings`` with JSON ``{"model": <model>, "input": [texts]}`` and, when
the environment variable named ``api_key_env`` is set, the header ``Authorization: Bearer <key>``.
Response: ``{"data": [{"index": i, "embedding": [floats]}, ...]}``; rows are put back in ``index``
order. Every response is checked before it is used: at most :data:`MAX_RESPONSE_BYTES`, valid JSON
of that shape, one row per input, finite numbers, the same dimension for every row.

Redirects are refused (the key would follow them). Failures: HTTP 429 and 5xx and connection errors
are retried ``retries`` times with exponential backoff (``backoff * 2**attempt`` seconds); anything
else, or the last failure, is a :class:`~semanscope.models.base.ModelUnavailable` with a one-line
message.

The key is read from the environment at each request and never kept: it is not part of the
fingerprint, the cache key, the results or any message. The fingerprint hashes the base URL
(user name, password, query and fragment removed), the model name and the dimension found by a
one-text probe when the model is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

import numpy as np

from semanscope.models.base import Embedder, Family, ModelUnavailable, Progress

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
MAX_RESPONSE_BYTES = 64 * 2**20  # one batch's JSON; a longer body is an error, not read whole
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would send the ``Authorization`` header on to the new address."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def public_url(url: str) -> str:
    """``url`` without credentials, query or fragment, and without a trailing ``/``: what may be
    shown, logged and hashed. Raises ValueError unless it is an ``http(s)`` URL with a host."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an endpoint URL must start with http:// or https:// and name a host, got {url!r}")
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 literal keeps its brackets
    host = name if parts.port is None else f"{name}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def parse_embeddings(body: bytes, n: int) -> np.ndarray:
    """The ``(n, dim)`` float32 embeddings of an OpenAI-format response ``body`` (rows in ``index``
    order); ValueError naming what is wrong otherwise."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the response is not JSON ({exc})") from None
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise ValueError('the response has no "data" list')
    if len(data) != n:
        raise ValueError(f"the response has {len(data)} embeddings for {n} texts")
    rows: list[list[float] | None] = [None] * n
    for pos, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("embedding"), list):
            raise ValueError(f'item {pos} of "data" has no "embedding" list')
        index = item.get("index", pos)
        if not isinstance(index, int) or not 0 <= index < n or rows[index] is not None:
            raise ValueError(f'item {pos} of "data" has a bad or repeated index {index!r}')
        rows[index] = item["embedding"]
    dims = {len(r) for r in rows if r is not None}
    if len(dims) != 1 or 0 in dims:
        raise ValueError(f"the embeddings have inconsistent or empty dimensions {sorted(dims)}")
    try:
        out = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("an embedding holds a value that is not a number") from None
    if not np.isfinite(out).all():
        raise ValueError("an embedding holds a value that is not finite")
    return out.astype(np.float32)


class EndpointEmbedder(Embedder):
    """A model served by an OpenAI-compatible ``/v1/embeddings`` endpoint (see module docstring).

    ``base_url`` is the API root (e.g. ``http://localhost:11434/v1`` for Ollama); ``model`` the
    served model's name; ``api_key_env`` the *name* of the environment variable holding the key.
    Loading sends one probe text to learn the dimension (and to fail early).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        name: str | None = None,
        api_key_env: str = DEFAULT_KEY_ENV,
        family: Family = "contextual",
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_batch: int = 64,
    ) -> None:
        if not model:
            raise ValueError("an endpoint model needs the served model's name")
        self.url = public_url(base_url)
        self._request_url = base_url.strip().rstrip("/") + "/embeddings"
        self.model = model
        self.name = name or f"endpoint:{model}"
        self.family = family
        self.api_key_env = api_key_env
        self.timeout, self.retries, self.backoff, self.max_batch = timeout, retries, backoff, max_batch
        self.dim = int(self._post(["probe"]).shape[1])

    @property
    def fingerprint(self) -> str:
        key = json.dumps({"url": self.url, "model": self.model, "dim": self.dim}, sort_keys=True)
        return "endpoint:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _post(self, texts: list[str]) -> np.ndarray:
        payload = json.dumps({"model": self.model, "input": texts}).encode("utf-8")
        where = f"{self.name} at {self.url}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self._request_url, data=payload, headers=self._headers(), method="POST")
            try:
                with _OPENER.open(request, timeout=self.timeout) as response:
                    body = response.read(MAX_RESPONSE_BYTES + 1)
            except urllib.error.HTTPError as exc:
                if exc.code in RETRY_STATUS and attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise ModelUnavailable(f"{where}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise ModelUnavailable(f"{where} cannot be reached: {reason}") from None
            if len(body) > MAX_RESPONSE_BYTES:
                raise ModelUnavailable(f"{where}: the response is larger than {MAX_RESPONSE_BYTES // 2**20} MB")
            try:
                return parse_embeddings(body, len(texts))
            except ValueError as exc:
                raise ModelUnavailable(f"{where}: {exc}") from None
        raise AssertionError("unreachable")  # the loop returns or raises

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        step = max(1, min(batch_size, self.max_batch))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), step):
            rows = self._post(list(texts[start : start + step]))
            if rows.shape[1] != self.dim:
                raise ModelUnavailable(f"{self.name}: dimension changed from {self.dim} to {rows.shape[1]}")
            out[start : start + len(rows)] = rows
            if progress is not None:
                progress(min(start + step, len(texts)), len(texts))
        return out
