"""The model card (``README.md``) written into every bundle, in the Hugging Face format.

YAML front matter (language, license, library_name, tags, metrics, ...) and Markdown sections,
each built by one function of :data:`SECTIONS` from the bundle's metadata; a section returns its
lines, so a new fact is one more line in one function. Free text taken from the data (name, file
path, columns, labels) has personal data masked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from .redaction import redact

MIN_LANGUAGE_SHARE = 0.05  # languages below this share of the sample are left out of the card
HEAD_PURPOSE = {"root_cause": "the root cause of a complaint", "churn": "the probability that the customer churns"}
KNOWN_BASE_MODELS = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
                     "multilingual": "intfloat/multilingual-e5-small"}


def _heads(metadata: dict[str, Any]) -> dict[str, Any]:
    return metadata.get("heads", {})


def _languages(metadata: dict[str, Any]) -> list[str]:
    shares = metadata.get("training_data", {}).get("languages") or {}
    found = [lang for lang, share in shares.items() if share >= MIN_LANGUAGE_SHARE]
    return found or list(metadata.get("taxonomy", {}).get("languages", [])) or ["en"]


def card_data(metadata: dict[str, Any]) -> dict[str, Any]:
    """The YAML front matter of the card, as a dict (keys of ``huggingface_hub.ModelCardData``)."""
    heads = _heads(metadata)
    model = str(metadata.get("embedding_model", {}).get("name", ""))
    data: dict[str, Any] = {
        "language": _languages(metadata),
        "license": metadata.get("license", "other"),
        "library_name": "complaintkit",
        "pipeline_tag": "text-classification",
        "tags": ["complaintkit", "customer-complaints", "text-classification", "scikit-learn",
                 "sentence-transformers", *(["root-cause"] if "root_cause" in heads else []),
                 *(["churn"] if "churn" in heads else []), *(["zero-shot"] if metadata.get("kind") else [])],
        "metrics": [*(["accuracy", "f1", "ece"] if "root_cause" in heads else []),
                    *(["roc_auc", "brier_score"] if "churn" in heads else [])],
    }
    if model.rsplit("/", 1)[-1] in KNOWN_BASE_MODELS:
        data["base_model"] = KNOWN_BASE_MODELS[model.rsplit("/", 1)[-1]]
    if metadata.get("dataset"):
        data["datasets"] = [metadata["dataset"]]
    return data


def _title(metadata: dict[str, Any]) -> list[str]:
    purposes = [HEAD_PURPOSE[h] for h in _heads(metadata) if h in HEAD_PURPOSE]
    return [f"# {redact(str(metadata.get('name') or 'complaintkit model'))}", "",
            "A complaintkit bundle. It predicts " + " and ".join(purposes or ["nothing"]) + " from its text."]


def _description(metadata: dict[str, Any]) -> list[str]:
    model = metadata.get("embedding_model", {})
    columns = metadata.get("columns", {})
    lines = ["## Model description", "",
             f"- text: column(s) {redact(', '.join(columns.get('text', [])))}, embedded by `{model.get('name')}` "
             f"({model.get('dimension')} dimensions, SHA-256 `{str(model.get('sha256', ''))[:16]}…`; not stored in "
             "the bundle, checked when it is loaded)",
             f"- long texts: chunks of {model.get('max_words_per_chunk')} words"
             + (f", {model['pooling']}" if model.get("pooling") else "")
             + (f" (`long_texts={model['long_texts']}`)" if model.get("long_texts", "chunks") != "chunks" else "")]
    tables = model.get("static_tables")
    if tables and isinstance(tables, list):
        lines.append("- scoring cascade: a static embedding table distilled from that model, stored in the bundle ("
                     + ", ".join(f"`{redact(str(name))}`" for name in tables) + ", hashed)")
    lines += _root_cause_head(_heads(metadata).get("root_cause", {}))
    if metadata.get("kind") == "zero-shot":
        lines.append("- root cause: zero-shot, by similarity to each cause's description and example phrases")
    if "churn" in _heads(metadata):
        extra = [*columns.get("numeric", []), *columns.get("categorical", [])]
        lines.append("- churn: calibrated logistic regression over the text" +
                     (f" and the columns {redact(', '.join(extra))}" if extra else ""))
    return lines


def _few_label_head(chosen: dict[str, Any], path: dict[str, Any]) -> str:
    calibration = chosen.get("calibration", {})
    C = chosen.get("head_settings", {}).get("C")
    how_C = (", chosen on the calibration folds' held-out macro-F1, the simplest within one standard error"
             if calibration.get("held_out_macro_f1") else "")
    probabilities = (f"probabilities temperature-scaled (T {calibration['temperature']}) on held-out predictions of "
                     f"{calibration.get('folds')} folds" if calibration.get("method") == "temperature" else
                     "probabilities not calibrated on held-out rows (a class has a single labelled row): read them "
                     "as a ranking")
    features = chosen.get("features", "fine-tuned embedding, class-balanced logistic regression")
    kept = f", its lowest {chosen['kept_layers']} layers kept as they were" if chosen.get("kept_layers") else ""
    return (f"- root cause: few-label training ({path.get('reason')}): the encoder fine-tuned with a supervised "
            f"contrastive loss for {chosen.get('fine_tuning_steps')} steps{kept} (stored in the bundle's `encoder/` "
            f"folder, every file hashed), then {features} (C {C}{how_C}); {probabilities}")


def _root_cause_head(head: dict[str, Any]) -> list[str]:
    chosen, path = head.get("chosen", {}), head.get("path", {})
    if path.get("head") == "few-label":
        return [_few_label_head(chosen, path)]
    if not chosen:
        return []
    scheme = chosen.get("cv_scheme") or {}
    how = (f"chosen by {scheme['repeats']}x repeated {scheme['folds']}-fold cross-validated macro-F1, keeping the "
           f"simplest setting within one standard error of the best (simpler = {scheme['simpler_means']})"
           if scheme else "fixed")
    full = scheme.get("repeats", 1) * scheme.get("folds", 0)
    short = [row for row in chosen.get("cv_macro_f1") or [] if "folds" in row and row["folds"] < full]
    if short:
        how += (f"; {len(short)} of the {len(chosen['cv_macro_f1'])} settings were more than "
                f"{scheme['not_repeated_below']:g} standard errors below the best after the first repeat and "
                "were not repeated")
    chars = chosen.get("char_ngrams", head.get("params", {}).get("char_ngrams", True))
    tfidf = "word and character TF-IDF" if chars else "word TF-IDF"
    features = f"{tfidf} and the embedding" if chosen.get("use_tfidf", True) else "the embedding"
    return [f"- root cause: class-balanced linear SVM over {features} (C {chosen.get('C')}, embedding weight "
            f"{chosen.get('embedding_weight')}, {how}); probabilities by {chosen.get('calibration', 'n/a')} "
            "calibration on out-of-fold decisions"]


def _intended_use(metadata: dict[str, Any]) -> list[str]:
    return ["## Intended use", "",
            "- Sorting incoming complaints of the same kind and source as the training data by root cause, "
            "and ranking customers by churn risk, with a person checking the complaints flagged `needs_review`.",
            "- Aggregates over many complaints: the share of each cause, its trend, churn risk per cause "
            "(`complaintkit report`).",
            "", "## Out-of-scope use", "",
            "- Decisions about an individual customer (credit, refunds, service) made on a prediction alone.",
            "- Complaints from another product, channel, country or language than the training data without "
            "first measuring on labelled examples of them (`complaintkit evaluate`).",
            "- Causes that are not among its labels: it always answers with one of them."]


def _training_data(metadata: dict[str, Any]) -> list[str]:
    data = metadata.get("training_data", {})
    dropped = {k: v for k, v in data.get("dropped", {}).items() if v}
    lines = ["## Training data", "",
             f"- file: `{redact(str(data.get('path')))}` (SHA-256 `{str(data.get('sha256') or '')[:16]}…`)",
             f"- rows used: {data.get('rows_used')} of {data.get('rows')}"
             + (f"; left out: {', '.join(f'{k} {v}' for k, v in dropped.items())}" if dropped else "")]
    shares = {k: v for k, v in (data.get("languages") or {}).items() if v >= 0.01}
    if shares:
        lines.append("- languages (sample of 500): " + ", ".join(f"{k} {v:.0%}" for k, v in list(shares.items())[:5]))
    return lines


def _per_class(metadata: dict[str, Any]) -> list[str]:
    head = _heads(metadata).get("root_cause", {})
    labels, counts = head.get("labels", []), head.get("label_counts", {})
    if not labels:
        return []
    held_out = metadata.get("metrics", {}).get("root_cause", {}).get("per_class", {})
    lines = ["## Root causes", "", "| root cause | training rows | held-out precision | recall | F1 | held-out rows |",
             "|---|---:|---:|---:|---:|---:|"]
    for label in labels:
        s = held_out.get(label)
        scores = (f"{s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']}" if s
                  else "– | – | – | –")
        lines.append(f"| `{redact(str(label))}` | {counts.get(label, '–')} | {scores} |")
    return lines


def _metrics(metadata: dict[str, Any]) -> list[str]:
    metrics = metadata.get("metrics", {})
    split = metadata.get("metrics_split", {})
    lines = ["## Held-out metrics", ""]
    if split:
        lines.append(f"On the rows whose `{redact(str(split.get('column')))}` is `{split.get('value')}`, "
                     "not used in training:")
    rc = metrics.get("root_cause")
    if rc:
        lines.append(f"- root cause: {rc['rows']} rows, accuracy {_with_ci(rc, 'accuracy')}, "
                     f"macro-F1 {_with_ci(rc, 'macro_f1')}")
    churn = metrics.get("churn")
    if churn:
        lines.append(f"- churn: {churn['rows']} rows, base rate {churn['base_rate']:.3f}, ROC-AUC "
                     f"{churn['roc_auc']:.3f}, PR-AUC {churn['pr_auc']:.3f}, Brier {churn['brier']:.3f}")
    cv = _heads(metadata).get("root_cause", {}).get("chosen", {}).get("cv_macro_f1") or []
    if cv:
        lines.append(f"- root cause, cross-validated on the training rows: macro-F1 "
                     f"{max(row['macro_f1'] for row in cv):.3f} with the chosen settings")
    if not (rc or churn or cv):
        lines.append("- none recorded (no held-out split was given at training time)")
    return lines


def _with_ci(values: dict[str, Any], key: str) -> str:
    interval = (values.get("ci") or {}).get(key)
    return f"{values[key]:.3f}" + (f" (95% CI {interval[0]:.3f}-{interval[1]:.3f})" if interval else "")


def _cv_metrics(metadata: dict[str, Any]) -> list[str]:
    cv = metadata.get("cv_metrics") or {}
    if not cv:
        return []
    lines = ["## Cross-validated metrics (training rows)", ""]
    for head, values in cv.items():
        shown = ", ".join(f"{k} {_with_ci(values, k)}" for k, v in values.items() if isinstance(v, float))
        lines.append(f"- {head}: {values.get('rows')} rows, {shown}" + (f" ({values['method']})"
                                                                       if values.get("method") else ""))
    return lines


def _calibration(metadata: dict[str, Any]) -> list[str]:
    metrics = metadata.get("metrics", {})
    lines = [f"- root cause: expected calibration error {metrics['root_cause']['ece']:.3f} on the held-out rows"
             ] if "root_cause" in metrics else []
    if "churn" in metrics:
        lines.append(f"- churn: expected calibration error {metrics['churn']['ece']:.3f} on the held-out rows")
    return ["## Calibration", "", *lines] if lines else []


def _needs_review(metadata: dict[str, Any]) -> list[str]:
    review = metadata.get("review", {})
    if not review:
        return []
    rc = metadata.get("metrics", {}).get("root_cause", {})
    lines = ["## Needs review", "",
             f"- predictions with confidence below {review.get('threshold', 0):.3f} are flagged `needs_review` "
             f"({review.get('rule', '')})"]
    if rc.get("coverage") is not None and rc.get("accuracy_when_auto") == rc.get("accuracy_when_auto"):
        lines.append(f"- held out: {rc['coverage']:.0%} of complaints not flagged, at accuracy "
                     f"{rc['accuracy_when_auto']:.3f}")
    return lines


def _cascade(metadata: dict[str, Any]) -> list[str]:
    tier = _heads(metadata).get("root_cause", {}).get("fast_tier")
    if not tier:
        return []
    if tier.get("kept") is False:
        return ["## Scoring cascade", "", "- not used: no fast-head threshold met its bounds out of fold, so the "
                "full head answers every complaint"]
    oof = tier.get("out_of_fold", {})
    lines = ["## Scoring cascade", "",
             f"- a fast head ({tier.get('fast_head', {}).get('embedding_model')}, with TF-IDF) answers the complaints "
             f"where its confidence is at least {tier.get('threshold', 0):.3f}; the full head answers the rest",
             f"- {tier.get('rule', '')}"]
    if oof:
        agreement = f", the full head's answer on {oof['agreement']:.1%} of them" if "agreement" in oof else ""
        lines.append(f"- out of fold: {oof.get('escalated', 0):.1%} of the training rows go to the full head; "
                     f"macro-F1 {oof.get('cascade_macro_f1', 0):.3f} against the full head's "
                     f"{oof.get('full_macro_f1', 0):.3f}{agreement}")
    return lines


def _doubtful_labels(metadata: dict[str, Any]) -> list[str]:
    issues = metadata.get("label_issues")
    if not issues:
        return []
    return ["## Doubtful training labels", "",
            f"- {issues['rows_flagged']} of {issues['rows_checked']} training rows ({issues['share_flagged']:.1%}) "
            f"have a label that {issues['folds']}-fold out-of-fold predictions doubt; `{issues['file']}` lists "
            "them, most doubtful first, with a suggested label. Check them and correct the labels that are "
            "wrong, then re-train."] + (
        [f"- {issues['dropped']['rows']} training rows were left out of the root-cause head "
         f"(`--drop-doubtful-labels`: {issues['dropped']['rule']}); the `dropped` column of `{issues['file']}` "
         "marks them."] if "dropped" in issues else [])


def _personal_data(metadata: dict[str, Any]) -> list[str]:
    kinds = metadata.get("redaction", {}).get("kinds")
    lines = ["## Personal data", "", f"- masked before embedding: {', '.join(kinds)}" if kinds else
             "- not masked before embedding (train with --redact to mask it)"]
    if "private_labels" in metadata:
        lines.append("- root-cause labels are private: this card, metadata.json and label_issues.csv show opaque ids "
                     "(label_01, …) in the order of the head's sorted classes; the heads keep the names.")
    return lines


def _limitations(metadata: dict[str, Any]) -> list[str]:
    return ["## Limitations", "",
            *(f"- {note}" for note in metadata.get("notes", [])),
            "- Probabilities are calibrated on the training data's distribution; they drift when the mix of "
            "complaints changes. Check `complaintkit evaluate` on fresh labelled data.",
            "- Heads are stored with skops and loaded against a list of trusted types (no pickle); still, only "
            "use bundles from a source you trust."]


def _how_to_use(metadata: dict[str, Any]) -> list[str]:
    folder = redact(str(metadata.get("name") or "model"))
    return ["## How to use", "", "```python", "import complaintkit", "",
            f'bundle = complaintkit.load("models/{folder}")',
            'bundle.predict(["I was charged twice for the same order"])  # a DataFrame, one row per text', "```",
            "", "```bash",
            f"complaintkit score --model models/{folder} --input complaints.csv --output scored.parquet",
            "```"]


def _versions(metadata: dict[str, Any]) -> list[str]:
    return ["## Versions", "", *(f"- {k}: {v}" for k, v in metadata.get("versions", {}).items())]


SECTIONS: tuple[Callable[[dict[str, Any]], list[str]], ...] = (
    _title, _description, _intended_use, _training_data, _per_class, _metrics, _cv_metrics, _calibration,
    _needs_review, _cascade,
    _doubtful_labels, _personal_data, _limitations, _how_to_use, _versions)


def render_model_card(metadata: dict[str, Any]) -> str:
    """Return the model card of a bundle described by ``metadata``: YAML front matter and Markdown sections.

    Uses ``huggingface_hub.ModelCard`` (installed with sentence-transformers) to write and check
    the front matter; without it, the same front matter is written with PyYAML.
    """
    body = "\n\n".join("\n".join(lines) for section in SECTIONS if (lines := section(metadata))) + "\n"
    data = card_data(metadata)
    try:
        from huggingface_hub import ModelCard, ModelCardData
    except ImportError:
        return f"---\n{yaml.safe_dump(data, sort_keys=False, allow_unicode=True)}---\n\n{body}"
    return str(ModelCard(f"---\n{ModelCardData(**data).to_yaml()}\n---\n\n{body}"))
