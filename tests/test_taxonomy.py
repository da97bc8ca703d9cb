"""The default taxonomy file and taxonomy validation."""

from pathlib import Path

import pytest

from complaintkit.exceptions import InputError
from complaintkit.taxonomy import load_taxonomy, parse_taxonomy

TAXONOMY = Path(__file__).resolve().parents[1] / "data" / "taxonomy.yaml"
MISSION_CAUSES = {"billing_error", "service_failure", "slow_resolution", "broken_promise", "hard_to_reach",
                  "passed_around", "staff_attitude", "poor_communication", "rigid_policy", "wrong_order"}


def test_default_taxonomy_has_the_ten_causes_in_four_languages() -> None:
    taxonomy = load_taxonomy(TAXONOMY)
    assert set(taxonomy.ids) == MISSION_CAUSES
    assert {c.dimension for c in taxonomy.causes} <= {"reliability", "assurance", "tangibles", "empathy",
                                                       "responsiveness"}
    for cause in taxonomy.causes:
        assert {"en", "it", "ru", "hr"} <= set(cause.examples), cause.id
        assert all(len(texts) >= 3 for texts in cause.examples.values()), cause.id
    texts, labels = taxonomy.prototype_table()
    assert len(texts) == len(labels) == sum(len(c.prototypes) for c in taxonomy.causes)


def test_default_taxonomy_says_who_wrote_the_examples() -> None:
    assert "BY THE COMPLAINTKIT AUTHORS" in TAXONOMY.read_text(encoding="utf-8")


@pytest.mark.parametrize(("document", "message"), [
    ({"causes": [{"id": "a", "name": "A", "description": "x"}]}, "at least two"),
    ({"causes": [{"id": "a", "name": "A", "description": "x"}, {"id": "a", "name": "B", "description": "y"}]},
     "repeats"),
    ({"causes": [{"id": "a", "name": "A"}, {"id": "b", "name": "B", "description": "y"}]}, "no description"),
    ({"causes": [{"id": "a", "name": "A", "description": "x", "examples": ["oops"]},
                 {"id": "b", "name": "B", "description": "y"}]}, "language code"),
    ({"reasons": []}, "causes"),
])
def test_bad_taxonomies_are_refused_with_a_reason(document: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_taxonomy(document)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_taxonomy(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("causes: [unclosed")
    with pytest.raises(InputError, match="not valid YAML"):
        load_taxonomy(bad)
