"""The bundle's model card: Hugging Face front matter and the sections a model user looks for."""

import yaml

from complaintkit.model_card import render_model_card

METADATA = {
    "name": "mine",
    "columns": {"text": ["text"], "numeric": [], "categorical": []},
    "embedding_model": {"name": "all-MiniLM-L6-v2", "dimension": 384, "sha256": "ab" * 32, "max_words_per_chunk": 180},
    "training_data": {"path": "complaints.csv", "sha256": "cd" * 32, "rows": 120, "rows_used": 118,
                      "dropped": {"empty_text": 2, "empty_label": 0}, "languages": {"en": 0.97, "pcm": 0.002}},
    "heads": {"root_cause": {"labels": ["billing", "delivery"], "label_counts": {"billing": 70, "delivery": 48},
                             "chosen": {"C": 0.3, "embedding_weight": 2.0, "calibration": "temperature",
                                        "cv_macro_f1": [{"macro_f1": 0.81}, {"macro_f1": 0.84}]}}},
    "review": {"threshold": 0.61, "rule": "90% precision on out-of-fold predictions"},
    "metrics": {"root_cause": {"rows": 30, "accuracy": 0.9, "macro_f1": 0.88, "ece": 0.04, "coverage": 0.8,
                               "accuracy_when_auto": 0.95,
                               "per_class": {"billing": {"precision": 0.9, "recall": 0.95, "f1": 0.92, "support": 18},
                                             "delivery": {"precision": 0.9, "recall": 0.8, "f1": 0.85,
                                                          "support": 12}}}},
    "metrics_split": {"column": "split", "value": "test"},
    "redaction": {"kinds": []},
    "versions": {"complaintkit": "0.1.0"},
}


def _front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_front_matter_is_hugging_face_metadata() -> None:
    meta = _front_matter(render_model_card(METADATA))
    assert meta["language"] == ["en"] and meta["library_name"] == "complaintkit" and meta["license"]
    assert {"root-cause", "text-classification"} <= set(meta["tags"]) and "accuracy" in meta["metrics"]
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_sections_per_class_counts_and_no_noise() -> None:
    card = render_model_card(METADATA)
    for heading in ("## Model description", "## Intended use", "## Out-of-scope use", "## Training data",
                    "## Root causes", "## Held-out metrics", "## Calibration", "## Needs review",
                    "## Limitations", "## How to use"):
        assert heading in card
    assert "| `billing` | 70 | 0.900 | 0.950 | 0.920 | 18 |" in card
    assert "complaintkit.load(" in card and ".predict(" in card
    assert "pcm" not in card and "empty_label 0" not in card and "left out: empty_text 2" in card
    assert "expected calibration error 0.040" in card and "below 0.610" in card


def test_a_few_label_head_says_how_its_c_and_probabilities_were_chosen() -> None:
    chosen = {"fine_tuning_steps": 40, "features": "fine-tuned embedding, class-balanced logistic regression",
              "head_settings": {"C": 10.0},
              "calibration": {"method": "temperature", "temperature": 0.42, "folds": 2,
                              "held_out_macro_f1": [{"C": 1.0, "macro_f1": 0.75, "se": 0.01, "chosen": False},
                                                    {"C": 10.0, "macro_f1": 0.78, "se": 0.01, "chosen": True}]}}
    root = {**METADATA["heads"]["root_cause"], "chosen": chosen,
            "path": {"head": "few-label", "reason": "median 8 labelled examples per class < 32"}}
    card = render_model_card({**METADATA, "heads": {"root_cause": root}})
    assert "few-label training (median 8 labelled examples per class < 32)" in card and "for 40 steps (" in card
    kept = render_model_card({**METADATA, "heads": {"root_cause": {**root, "chosen": {**chosen, "kept_layers": 3}}}})
    assert "for 40 steps, its lowest 3 layers kept as they were (" in kept
    assert "logistic regression (C 10.0, chosen on the calibration folds' held-out macro-F1" in card
    assert "temperature-scaled (T 0.42) on held-out predictions of 2 folds" in card and "as a ranking" not in card
    single = {**chosen, "calibration": {"method": "none", "reason": "a class has a single labelled row"}}
    card = render_model_card({**METADATA, "heads": {"root_cause": {**root, "chosen": single}}})
    assert "(C 10.0);" in card and "read them as a ranking" in card
