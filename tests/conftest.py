import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def tmp_hash_store(tmp_path_factory):
    """Keep file-hash records (and anything else written under SEMANSCOPE_CACHE) out of the
    repository's cache folder for one test module; use with
    ``pytestmark = pytest.mark.usefixtures("tmp_hash_store")``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMANSCOPE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield
