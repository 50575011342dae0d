"""The OpenAI-compatible endpoint model against a local HTTP server started by the test.

The server serves :class:`FakeEmbedder` vectors in the OpenAI response format (rows shuffled, with
their ``index``), so the endpoint's embeddings must equal the fake model's exactly; scripted
responses test retries, malformed bodies and the size bound.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from fake_embedder import FakeEmbedder

from semanscope.cache import EmbeddingCache
from semanscope.embeddings import embed_by_language
from semanscope.models import endpoint, registry
from semanscope.models.base import ModelUnavailable
from semanscope.models.endpoint import EndpointEmbedder, parse_embeddings, public_url

SERVED = FakeEmbedder(dim=12, salt="served")
KEY = "sk-test-secret-123"


class Server:
    """What the handler serves: ``script`` (a list of (status, body) consumed first), then real rows."""

    def __init__(self) -> None:
        self.script: list[tuple[int, bytes]] = []
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []


def _handler(state: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if self.path != "/v1/embeddings":
                self._send(404, b"{}")
            elif state.script:
                self._send(*state.script.pop(0))
            else:
                vectors = SERVED.encode(body["input"])
                order = list(range(len(vectors)))[::-1]  # out of order: the client must use "index"
                data = [{"object": "embedding", "index": i, "embedding": vectors[i].tolist()} for i in order]
                self._send(200, json.dumps({"object": "list", "data": data, "model": body["model"]}).encode())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture()
def server() -> Iterator[tuple[str, Server]]:
    state = Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_embeddings_equal_the_served_model_and_the_key_is_a_bearer_header(server, monkeypatch) -> None:
    url, state = server
    monkeypatch.setenv("MY_KEY", KEY)
    model = EndpointEmbedder(url, "served-model", api_key_env="MY_KEY", max_batch=3)
    texts = ["one", "two", "drei", "quatre", "五", "six", "seven"]
    got = model.encode(texts, batch_size=64)
    np.testing.assert_array_equal(got, SERVED.encode(texts))
    assert model.dim == 12
    assert [len(r["input"]) for r in state.requests] == [1, 3, 3, 1]  # probe, then batches of max_batch
    assert all(h["Authorization"] == f"Bearer {KEY}" for h in state.headers)
    assert {r["model"] for r in state.requests} == {"served-model"}
    assert KEY not in model.fingerprint and KEY not in repr(vars(model))


def test_no_key_sends_no_authorization_header(server, monkeypatch) -> None:
    url, state = server
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    EndpointEmbedder(url, "m")
    assert "Authorization" not in state.headers[0]


def test_the_cache_works_and_the_key_never_reaches_it(server, monkeypatch, tmp_path) -> None:
    url, state = server
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = EndpointEmbedder(url, "m")
    texts = {"en": ["a", "b", "c"]}
    with EmbeddingCache(tmp_path / "emb") as cache:
        first = embed_by_language(texts, model, cache)["en"]
        sent = len(state.requests)
        np.testing.assert_array_equal(embed_by_language(texts, model, cache)["en"], first)
    assert len(state.requests) == sent  # second run from the cache
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_fingerprint_ignores_credentials_query_and_key_but_not_the_model(server, monkeypatch) -> None:
    url, _ = server
    monkeypatch.setenv("OPENAI_API_KEY", "one")
    a = EndpointEmbedder(url, "m")
    monkeypatch.setenv("OPENAI_API_KEY", "two")
    assert EndpointEmbedder(url + "/", "m").fingerprint == a.fingerprint
    assert EndpointEmbedder(url, "other").fingerprint != a.fingerprint
    assert public_url("https://user:pw@example.org:8443/v1/?k=1#x") == "https://example.org:8443/v1"


def test_server_errors_are_retried_then_succeed(server, monkeypatch) -> None:
    url, state = server
    state.script = [(503, b"busy"), (429, b"slow down")]
    model = EndpointEmbedder(url, "m", backoff=0.0)
    assert model.dim == 12 and len(state.requests) == 3


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, b"{}", "HTTP 400"),
        (307, b"{}", "HTTP 307"),  # a redirect is refused, not followed with the key
        (500, b"{}", "HTTP 500"),
        (200, b"not json", "not JSON"),
        (200, b'{"data": [{"index": 0, "embedding": [1, "x"]}]}', "not a number"),
        (200, b'{"data": [{"index": 0, "embedding": [1, NaN]}]}', "not finite"),
        (200, b'{"data": []}', "0 embeddings for 1 texts"),
        (200, b'{"result": 1}', 'no "data" list'),
    ],
)
def test_bad_responses_are_one_line_errors(server, status, body, message) -> None:
    url, state = server
    state.script = [(status, body)] * 3
    with pytest.raises(ModelUnavailable, match=message) as err:
        EndpointEmbedder(url, "m", retries=2, backoff=0.0)
    assert "\n" not in str(err.value)


def test_an_oversized_body_is_refused_without_reading_it_whole(server, monkeypatch) -> None:
    url, state = server
    monkeypatch.setattr(endpoint, "MAX_RESPONSE_BYTES", 100)
    with pytest.raises(ModelUnavailable, match="larger than"):
        EndpointEmbedder(url, "m")


def test_an_unreachable_endpoint_says_so() -> None:
    with pytest.raises(ModelUnavailable, match="cannot be reached"):
        EndpointEmbedder("http://127.0.0.1:9/v1", "m", retries=0, timeout=2)


def test_parse_embeddings_rejects_inconsistent_rows_and_repeated_indices() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        parse_embeddings(b'{"data": [{"index": 0, "embedding": [1, 2]}, {"index": 1, "embedding": [1]}]}', 2)
    with pytest.raises(ValueError, match="repeated index"):
        parse_embeddings(b'{"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [2]}]}', 2)
    np.testing.assert_array_equal(
        parse_embeddings(b'{"data": [{"index": 1, "embedding": [3, 4]}, {"index": 0, "embedding": [1, 2]}]}', 2),
        np.array([[1, 2], [3, 4]], dtype=np.float32),
    )


def test_registered_endpoint_loads_through_the_registry(server, monkeypatch) -> None:
    url, _ = server
    info = registry.register_user_model("endpoint", url, model="served-model", key="my-endpoint")
    try:
        assert info.available and info.location == url and info.family == "contextual"
        model = registry.load_model("my-endpoint")
        np.testing.assert_array_equal(model.encode(["hello"]), SERVED.encode(["hello"]))
    finally:
        registry.unregister_user_model("my-endpoint")


def test_registry_refuses_credentials_in_the_url_and_a_missing_model_name() -> None:
    with pytest.raises(ValueError, match="environment variable"):
        registry.user_model("endpoint", "https://user:secret@example.org/v1", model="m")
    with pytest.raises(ValueError, match="model="):
        registry.user_model("endpoint", "https://example.org/v1")
    with pytest.raises(ValueError, match="http"):
        registry.user_model("endpoint", "file:///etc/passwd", model="m")
