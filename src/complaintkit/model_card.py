"""The model card (``README.md``) written into every bundle, from its metadata."""

from __future__ import annotations

from typing import Any

from .redaction import redact


def _metric_lines(metrics: dict[str, Any], missing: str) -> list[str]:
    lines = []
    for head, values in metrics.items():
        scalars = {k: v for k, v in values.items() if isinstance(v, int | float)}
        intervals = values.get("ci", {}) if isinstance(values.get("ci"), dict) else {}
        shown = ", ".join((f"{k} {v:.3f}" + (f" (95% CI {intervals[k][0]:.3f}-{intervals[k][1]:.3f})"
                                             if k in intervals else "")) if isinstance(v, float) else f"{k} {v}"
                          for k, v in scalars.items())
        if shown:
            lines.append(f"- **{head}**: {shown}")
        if values.get("method"):
            lines.append(f"  ({values['method']})")
    return lines or [f"- {missing}"]


def render_model_card(metadata: dict[str, Any]) -> str:
    """Return the Markdown model card of a bundle described by ``metadata``.

    Free text taken from the data (name, file path, columns, labels) has personal data masked.
    """
    columns = metadata.get("columns", {})
    data = metadata.get("training_data", {})
    model = metadata.get("embedding_model", {})
    heads = metadata.get("heads", {})
    labels = heads.get("root_cause", {}).get("labels", [])
    lines = [
        f"# complaintkit model: {redact(str(metadata.get('name', 'unnamed')))}",
        "",
        "Predicts " + " and ".join(
            {"root_cause": "the root cause of a complaint", "churn": "the customer's churn probability"}[h]
            for h in heads) + " from its text.",
        "",
        "## Inputs",
        f"- text: {redact(', '.join(columns.get('text', [])))}",
    ]
    for key in ("numeric", "categorical"):
        if columns.get(key):
            lines.append(f"- {key} columns: {redact(', '.join(columns[key]))}")
    lines += [
        "",
        "## Embedding model",
        f"- `{model.get('name')}` (SHA-256 `{str(model.get('sha256', ''))[:16]}…`), "
        f"{model.get('dimension')} dimensions; "
        + ("fine-tuned on the training labels and stored in the bundle's `encoder/` folder (safetensors, "
           "every file hashed)." if model.get("fine_tuned") else "not stored in the bundle."),
        f"- long texts: chunks of {model.get('max_words_per_chunk')} words, {model.get('pooling', 'n/a')}",
        "",
        "## Training data",
        f"- file: `{redact(str(data.get('path')))}` (SHA-256 `{str(data.get('sha256', ''))[:16]}…`)",
        f"- rows used: {data.get('rows_used')} of {data.get('rows')}; dropped: {data.get('dropped', {})}",
    ]
    if data.get("languages"):
        lines.append("- languages (sample of 500): " + ", ".join(
            f"{language} {share:.0%}" for language, share in list(data["languages"].items())[:5]))
    if labels:
        lines += ["", "## Root causes", "", ", ".join(f"`{redact(label)}`" for label in labels)]
        chosen = heads["root_cause"].get("chosen", {})
        path = heads["root_cause"].get("path", {})
        if path.get("head") == "few-label":
            lines += ["", f"Head: few-label training ({path.get('reason')}): the encoder fine-tuned with a "
                          f"supervised contrastive loss for {chosen.get('fine_tuning_steps')} steps, then a "
                          "class-balanced logistic regression on its embeddings. Its probabilities are not "
                          "calibrated on held-out rows: read them as a ranking."]
        elif chosen:
            scheme = chosen.get("cv_scheme") or {}
            how = (f"chosen by {scheme['repeats']}x repeated {scheme['folds']}-fold cross-validated macro-F1, "
                   f"rule {scheme['selection']} (the simplest setting within one standard error of the best; "
                   f"simpler = {scheme['simpler_means']})" if scheme else "fixed")
            tfidf = "TF-IDF ⊕ embedding" if chosen.get("use_tfidf", True) else "embedding only"
            lines += ["", f"Head: class-balanced linear SVM on {tfidf} (C {chosen.get('C')}, embedding weight "
                          f"{chosen.get('embedding_weight')}, {how}); "
                          f"probabilities by {chosen.get('calibration', 'n/a')} calibration on out-of-fold "
                          "decisions."]
    kinds = metadata.get("redaction", {}).get("kinds")
    lines += ["", "## Personal data",
              f"- masked before embedding: {', '.join(kinds)}" if kinds else
              "- not masked before embedding (train with --redact to mask it)"]
    review = metadata.get("review", {})
    if review:
        lines += ["", "## Needs review",
                  f"- predictions with confidence below {review.get('threshold', 0):.3f} are flagged "
                  f"`needs_review` ({review.get('rule', '')})"]
    issues = metadata.get("label_issues")
    if issues:
        lines += ["", "## Doubtful training labels",
                  f"- {issues['rows_flagged']} of {issues['rows_checked']} training rows "
                  f"({issues['share_flagged']:.1%}) have a label that {issues['folds']}-fold out-of-fold "
                  f"predictions doubt; `{issues['file']}` lists them, most doubtful first, with a suggested label. "
                  "Check them and correct the labels that are wrong, then re-train."]
    lines += ["", "## Held-out metrics",
              *_metric_lines(metadata.get("metrics", {}),
                             "none recorded (no held-out split was given at training time)")]
    if metadata.get("cv_metrics"):
        lines += ["", "## Cross-validated metrics (training rows)", *_metric_lines(metadata["cv_metrics"], "none")]
    if metadata.get("notes"):
        lines += ["", "## Notes", *(f"- {note}" for note in metadata["notes"])]
    lines += [
        "",
        "## Limitations",
        "- Probabilities are calibrated on the training data's distribution; they drift when the mix of",
        "  complaints changes. Check `complaintkit evaluate` on fresh labelled data.",
        "- Heads are stored with skops and loaded against a list of trusted types (no pickle);",
        "  still, only use bundles from a source you trust.",
        "",
        "## Versions",
        *(f"- {k}: {v}" for k, v in metadata.get("versions", {}).items()),
        "",
    ]
    return "\n".join(lines)
