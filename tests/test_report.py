"""The root-cause report on SYNTHETIC scored tables (planted patterns) and on real complaint rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from _report_data import real_scored, synthetic_scored
from complaintkit.cli import main
from complaintkit.exceptions import InputError, MissingColumnError
from complaintkit.report import build_report, load_state, render_html, training_profile, write_report
from complaintkit.report.drift import psi
from complaintkit.report.examples import excerpt, sample_groups
from complaintkit.report.stats import adjusted_residuals, holm, two_proportion_z

AIRLINE = Path(__file__).resolve().parents[2] / "shared" / "data" / "airline" / "tweets.csv"


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    return synthetic_scored()


@pytest.fixture(scope="module")
def full_report(scored: pd.DataFrame) -> dict:
    previous = synthetic_scored(seed=1, billing_share=0.2)
    profile = training_profile(scored, scored["text"].str.slice(0, 20), "root_cause")
    return build_report(scored, previous=previous, by=["agent_id", "channel"], value_col="annual_value",
                        training_profile=profile)


def test_two_proportion_z_and_holm_match_known_values() -> None:
    # 60/100 vs 40/100: z = 2.828, two-sided p = 0.00468.
    assert two_proportion_z(np.array([60]), 100, np.array([40]), 100)[0] == pytest.approx(0.00468, abs=1e-4)
    assert holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])


def test_adjusted_residuals_are_zero_under_independence_and_large_for_a_planted_cell() -> None:
    even = pd.DataFrame([[10, 20], [30, 60]])
    assert np.allclose(adjusted_residuals(even), 0)
    planted = pd.DataFrame([[50, 10], [10, 50]])
    assert adjusted_residuals(planted).iloc[0, 0] > 5


def test_psi_is_zero_for_equal_mixes_and_grows_with_the_shift() -> None:
    a = {"x": 0.5, "y": 0.5}
    assert psi(a, a) == pytest.approx(0)
    assert psi(a, {"x": 0.6, "y": 0.4}) < psi(a, {"x": 0.9, "y": 0.1})


def test_overview_counts_shares_and_significant_change(full_report: dict, scored: pd.DataFrame) -> None:
    causes = {c["cause"]: c for c in full_report["causes"]}
    assert sum(c["count"] for c in causes.values()) == len(scored)
    assert causes["billing_error"]["share"] == pytest.approx((scored["root_cause"] == "billing_error").mean())
    # billing share planted at 40% now vs 20% before: significant; the others fell, none rose.
    change = {c["cause"]: c for c in full_report["change"]["causes"]}
    assert change["billing_error"]["significant"] and change["billing_error"]["change"] > 0.1
    assert "Fastest growing: billing_error" in " ".join(full_report["summary"])
    assert full_report["needs_review_share"] == pytest.approx(scored["needs_review"].mean())


def test_no_significant_change_between_two_samples_of_the_same_mix(scored: pd.DataFrame) -> None:
    report = build_report(scored, previous=synthetic_scored(seed=2), text_col="text")
    assert not any(c["significant"] for c in report["change"]["causes"])


def test_segments_flag_the_planted_agent(full_report: dict) -> None:
    agents = next(s for s in full_report["segments"] if s["column"] == "agent_id")
    top = agents["highlights"][0]
    assert (top["segment"], top["cause"]) == ("A7", "staff_attitude")
    assert top["share"] > 2 * top["overall_share"]
    channels = next(s for s in full_report["segments"] if s["column"] == "channel")
    assert channels["highlights"] == []  # channel was drawn independently of the cause


def test_trends_churn_money_and_drift(full_report: dict, scored: pd.DataFrame) -> None:
    trends = full_report["trends"]
    assert trends["frequency"] == "day" and trends["date_column"] == "date" and not trends["last_partial"]
    assert sum(sum(v) for v in trends["series"].values()) == len(scored)
    churn = full_report["churn"]
    assert churn["by_cause"][0]["cause"] == "service_failure"
    assert churn["top"][0]["churn"] == pytest.approx(scored["churn_proba"].max())
    money = full_report["money"]
    assert sum(m["value"] for m in money["by_cause"]) == pytest.approx(scored["annual_value"].sum())
    lengths = next(c for c in full_report["drift"]["checks"] if c["measure"] == "text length")
    assert lengths["shifted"]  # the profile was built from texts cut to 20 characters
    assert full_report["drift"]["warning"]


def test_excerpt_decodes_entities_masks_and_cuts_at_a_word() -> None:
    assert excerpt("Fees &amp; charges, mail jo@example.com now please", 35) == "Fees & charges, mail [email] now …"


def test_examples_are_redacted_cut_and_belong_to_their_cause(scored: pd.DataFrame) -> None:
    report = build_report(scored, excerpt_chars=60)
    for cause in report["causes"]:
        for kind in ("representative", "confident"):
            shown = cause["examples"][kind]
            assert len(shown) == 3
            for example in shown:
                assert "7946" not in example["text"]  # the phone number is masked (or cut off)
                assert len(example["text"]) <= 60
        texts = scored.loc[scored["root_cause"] == cause["cause"], "text"].str.slice(0, 20)
        assert any(texts.str.startswith(cause["examples"]["representative"][0]["text"][:20]))


def test_emerging_issues_find_the_planted_unknown_issues(full_report: dict) -> None:
    labels = " ".join(c["label"] for c in full_report["emerging"]["clusters"])
    assert "app" in labels or "login" in labels
    assert "parcel" in labels or "locker" in labels
    ids = [c["id"] for c in full_report["emerging"]["clusters"]]
    assert len(set(ids)) == len(ids) and all(c["status"] == "new" for c in full_report["emerging"]["clusters"])


def test_emerging_issue_ids_are_stable_across_runs(scored: pd.DataFrame, tmp_path: Path) -> None:
    state_file = tmp_path / "emerging.json"
    runner = CliRunner()
    args = ["report", "--scored", str(tmp_path / "a.parquet"), "--format", "json", "--state", str(state_file)]
    scored.to_parquet(tmp_path / "a.parquet")
    assert runner.invoke(main, [*args, "--out", str(tmp_path / "1.json")]).exit_code == 0
    first = {c["label"]: c["id"] for c in json.loads((tmp_path / "1.json").read_text())["emerging"]["clusters"]}
    assert runner.invoke(main, [*args, "--out", str(tmp_path / "2.json")]).exit_code == 0
    second = json.loads((tmp_path / "2.json").read_text())["emerging"]["clusters"]
    assert {c["label"]: c["id"] for c in second} == first
    assert all(c["status"] == "recurring" and c["growth"] == pytest.approx(0) for c in second)
    # Next week: other rows of the same issues (another seed) keep their ids; nothing new appears.
    later = build_report(synthetic_scored(seed=5), state=load_state(state_file))
    assert {c["id"] for c in later["emerging"]["clusters"]} <= set(first.values())
    # A week with different unknown complaints gets fresh ids.
    other = synthetic_scored(seed=6)
    unknown = other["needs_review"]
    other.loc[unknown, "text"] = np.where(np.arange(unknown.sum()) % 2, "Solar panel inverter fault again",
                                          "Gym membership freeze request ignored")
    fresh = build_report(other, state=load_state(state_file))["emerging"]["clusters"]
    assert all(c["status"] == "new" and c["id"] not in first.values() for c in fresh)


def test_minimal_table_renders_with_one_line_notes_per_missing_section() -> None:
    minimal = pd.DataFrame({"root_cause": ["a", "b", "a"]})
    report = build_report(minimal)
    for section in ("trends", "churn", "money", "emerging", "drift", "change"):
        assert section not in report
    assert len(report["notes"]) >= 6 and all("\n" not in n for n in report["notes"])
    html = render_html(report)
    assert "Sections left out" in html and 'id="trends"' not in html


def test_bad_inputs_raise_typed_errors(scored: pd.DataFrame) -> None:
    with pytest.raises(MissingColumnError, match="predicted root cause"):
        build_report(scored.drop(columns="root_cause"))
    with pytest.raises(MissingColumnError, match="--by"):
        build_report(scored, by=["agent"])
    with pytest.raises(InputError, match="no rows"):
        build_report(scored.head(0))


def test_cli_writes_every_format_and_refuses_bad_state(scored: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "scored.parquet"
    scored.to_parquet(source)
    runner = CliRunner()
    for fmt in ("html", "md", "json", "csv"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(main, ["report", "--scored", str(source), "--out", str(out), "--format", fmt,
                                      "--by", "agent_id", "--value-col", "annual_value"])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 200
    assert "A7" in (tmp_path / "report.md").read_text()
    assert pd.read_csv(tmp_path / "report.csv")["count"].sum() == len(scored)
    bad_state = tmp_path / "state.json"
    bad_state.write_text("{not json")
    result = runner.invoke(main, ["report", "--scored", str(source), "--out", str(tmp_path / "r.html"),
                                  "--state", str(bad_state)])
    assert result.exit_code == 1 and "state file" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["report", "--scored", str(source), "--out", str(tmp_path / "r.html"),
                                  "--by", "agnet_id"])
    assert result.exit_code == 1 and "did you mean 'agent_id'" in result.output


def test_report_on_real_cfpb_rows(cfpb_frame: pd.DataFrame, tmp_path: Path) -> None:
    scored = real_scored(cfpb_frame, "narrative", "product_group")
    report = build_report(scored, by=["company", "state"], date_col="date_received")
    assert report["trends"]["frequency"] == "month"
    assert [s["column"] for s in report["segments"]] == ["company", "state"]
    assert report["emerging"]["clusters"] and report["causes"][0]["examples"]["representative"]
    html = write_report(report, tmp_path / "cfpb.html").read_text()
    assert html.count("<svg") >= 4 and len(html) < 5_000_000
    assert "XXXX" not in report["emerging"]["clusters"][0]["label"].upper()


@pytest.mark.skipif(not AIRLINE.exists(), reason="airline tweets (CC BY-NC-SA) not in ../shared/data")
def test_report_on_real_airline_tweets() -> None:
    tweets = pd.read_csv(AIRLINE, dtype=str)
    scored = real_scored(tweets[tweets["sentiment"] == "negative"], "text", "negativereason")
    report = build_report(scored, by=["airline"], date_col="created_at")
    assert report["trends"]["frequency"] == "day" and report["trends"]["last_partial"]  # ends 24 Feb 11:53
    airlines = report["segments"][0]
    assert len(airlines["segments"]) == 6 and airlines["highlights"]
    assert report["emerging"]["clusters"]


def test_training_records_a_profile_that_the_report_reads_without_the_model(trained_bundle, scored: pd.DataFrame,
                                                                             tmp_path: Path) -> None:
    profile = trained_bundle.metadata["training_profile"]
    assert sum(profile["label_shares"].values()) == pytest.approx(1.0)
    assert profile["rows"] == 18 and len(profile["text_chars"]["deciles"]) == 9
    scored.to_parquet(tmp_path / "scored.parquet")
    result = CliRunner().invoke(main, ["report", "--scored", str(tmp_path / "scored.parquet"), "--format", "json",
                                       "--model", str(trained_bundle.path), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    checks = json.loads((tmp_path / "r.json").read_text())["drift"]["checks"]
    assert {c["measure"]: c["reference"] for c in checks}["predicted-cause mix"] == "training labels"


def test_language_and_confidence_drift_against_the_previous_period(scored: pd.DataFrame) -> None:
    now = scored.assign(language=np.where(np.arange(len(scored)) % 2, "en", "pt"))
    before = synthetic_scored(seed=3).assign(language="en", root_cause_proba=0.95)
    checks = {c["measure"]: c for c in build_report(now, previous=before)["drift"]["checks"]}
    assert checks["language mix"]["shifted"] and checks["language mix"]["reference"] == "previous period"
    assert checks["confidence"]["shifted"]
    assert not checks["predicted-cause mix"]["shifted"]


def test_sample_groups_takes_the_lowest_random_keys_of_each_group_and_skips_missing():
    frame = pd.DataFrame({"cause": np.random.default_rng(2).choice(["a", "b", "c", None], size=3000,
                                                                     p=[0.6, 0.3, 0.02, 0.08])})
    sample = sample_groups(frame, "cause", per_group=100)
    counts = sample["cause"].value_counts()
    assert counts["a"] == counts["b"] == 100 and counts["c"] == (frame["cause"] == "c").sum()
    assert sample["cause"].notna().all() and sample.index.is_monotonic_increasing
    keys = pd.Series(np.random.default_rng(0).random(len(frame)))  # the documented seed: reruns agree
    expected = keys[frame["cause"] == "a"].nsmallest(100).index
    assert sorted(sample.index[sample["cause"] == "a"]) == sorted(expected)
