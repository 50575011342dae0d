import os
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Streamlit's ``AppTest`` leaves the script it ran as ``sys.modules["__main__"]``; a later
    test that starts a process with the ``spawn`` method would then re-run that script (a page, or
    a ``from_function`` script that fails outside AppTest) in the child. Put the real one back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="module")
def tmp_hash_store(tmp_path_factory):
    """Keep file-hash records (and anything else written under SEMANSCOPE_CACHE) out of the
    repository's cache folder for one test module; use with
    ``pytestmark = pytest.mark.usefixtures("tmp_hash_store")``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMANSCOPE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield
