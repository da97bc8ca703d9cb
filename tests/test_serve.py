"""The HTTP service: a real uvicorn server on a free localhost port, a real HTTP client (httpx)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pandas as pd
import pytest
import uvicorn
from click.testing import CliRunner

from complaintkit.cli import main
from complaintkit.serve import API_KEY_HEADER, ServeLimits, create_app

LIMITS = ServeLimits(max_texts=5, max_chars=200, max_body_bytes=4_000)


@contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def url(trained_bundle) -> Iterator[str]:
    with running(create_app(trained_bundle, limits=LIMITS)) as base:
        yield base


@pytest.fixture(scope="module")
def keyed_url(trained_bundle) -> Iterator[str]:
    with running(create_app(trained_bundle, limits=LIMITS, api_key="s3cret")) as base:
        yield base


def test_service_and_score_command_give_identical_rows(url, trained_bundle, synthetic_frame, tmp_path):
    table = synthetic_frame[["id", "text", "tenure", "plan"]].iloc[::5]
    table.to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(main, ["score", "--model", str(trained_bundle.path), "--input",
                                       str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.parquet"),
                                       "--precision", "fp32"])  # the app's precision here (its default)
    assert result.exit_code == 0, result.output
    expected = pd.read_parquet(tmp_path / "out.parquet")
    as_read = pd.read_csv(tmp_path / "in.csv", dtype=str)  # what score reads: every cell a string
    response = httpx.post(f"{url}/v1/score", json={"rows": as_read.to_dict(orient="records")})
    assert response.status_code == 200, response.text
    served = pd.DataFrame(response.json()["rows"])
    assert list(served.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(served, expected, check_dtype=False, rtol=0, atol=0)
    assert response.json()["rejects"] == []


def test_texts_are_scored_in_order_and_empty_ones_rejected(url, trained_bundle):
    texts = ["I was charged twice on my bill", "", "The agent was rude and hung up"]
    body = httpx.post(f"{url}/v1/score", json={"rows": [{"text": t, "tenure": 5, "plan": "basic"} for t in texts]})
    assert body.status_code == 200
    rows, rejects = body.json()["rows"], body.json()["rejects"]
    assert [r["row_number"] for r in rows] == [0, 2]
    assert [r["root_cause"] for r in rows] == ["billing_error", "staff_attitude"]
    assert [(r["row_number"], r["reject_reason"]) for r in rejects] == [(1, "empty_text")]


def test_texts_without_the_churn_columns_are_refused_in_one_line(url):
    response = httpx.post(f"{url}/v1/score", json={"texts": ["my internet is down"]})
    assert response.status_code == 422
    assert "['tenure', 'plan'] are missing" in response.json()["detail"]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"rows": [{"text": "x", "tenure": 1, "plan": "a"}] * 6}, 422, "holds 6 complaints; at most 5"),
    ({"rows": [{"text": "y" * 201, "tenure": 1, "plan": "a"}]}, 422, "complaint 0 has 201 characters; at most 200"),
    ({"rows": [{"text": "z" * 150, "tenure": 1, "plan": "a"}, {"pad": "p" * 4000}]}, 413,
     "at most 4,000 are accepted"),
    ({"texts": [1, 2]}, 422, "request field texts.0: Input should be a valid string"),
    ({"texts": ["a"], "rows": [{"text": "a"}]}, 422, 'exactly one of "texts"'),
    ({"rows": []}, 422, "holds no complaint"),
])
def test_limits_and_bad_requests_get_one_line_errors(url, body, status, message):
    response = httpx.post(f"{url}/v1/score", json=body)
    assert response.status_code == status
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and message in detail


def test_body_limit_holds_without_a_content_length(url):
    chunks = (b'{"texts": ["' + b"a" * 1000 for _ in range(5))
    response = httpx.post(f"{url}/v1/score", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_api_key_is_required_when_set(keyed_url):
    ok = {"rows": [{"text": "my bill is wrong", "tenure": 2, "plan": "plus"}]}
    assert httpx.post(f"{keyed_url}/v1/score", json=ok).status_code == 401
    assert httpx.post(f"{keyed_url}/v1/score", json=ok, headers={API_KEY_HEADER: "wrong"}).status_code == 401
    assert httpx.get(f"{keyed_url}/v1/model").status_code == 401
    assert httpx.post(f"{keyed_url}/v1/score", json=ok, headers={API_KEY_HEADER: "s3cret"}).status_code == 200
    assert httpx.get(f"{keyed_url}/health").json()["status"] == "ok"


def test_model_info_and_docs(url, trained_bundle):
    info = httpx.get(f"{url}/v1/model").json()
    assert info["labels"] == ["billing_error", "service_failure", "staff_attitude"]
    assert info["hashes"]["artifacts"] == trained_bundle.metadata["artifacts"]
    assert info["metrics"]["root_cause"]["accuracy"] == trained_bundle.metadata["metrics"]["root_cause"]["accuracy"]
    assert info["versions"]["bundle"]["torch"] == trained_bundle.metadata["versions"]["torch"]
    assert info["limits"] == {"max_texts": 5, "max_chars": 200, "max_body_bytes": 4000}
    assert info["scoring_cascade"] is None  # the bundle has none
    assert "/v1/score" in httpx.get(f"{url}/openapi.json").json()["paths"]
    assert httpx.get(f"{url}/docs").status_code == 200


@pytest.mark.parametrize("cascade", ["on", "off"])
def test_service_takes_the_cascade_setting_of_score(cascade, cascade_bundle, synthetic_frame):
    every = synthetic_frame["text"].tolist()
    _, escalated = cascade_bundle.root_cause.escalated(every)
    texts = [t for t, e in zip(every, escalated, strict=True) if e][:2] + \
        [t for t, e in zip(every, escalated, strict=True) if not e][:3]  # each head answers some
    with running(create_app(cascade_bundle, limits=LIMITS, cascade=cascade)) as base:
        response = httpx.post(f"{base}/v1/score", json={"texts": texts})
        info = httpx.get(f"{base}/v1/model").json()
    assert response.status_code == 200, response.text
    served = pd.DataFrame(response.json()["rows"])
    expected = cascade_bundle.predict(texts, cascade=cascade, precision="fp32")
    pd.testing.assert_frame_equal(served[list(expected.columns)], expected, check_dtype=False)
    assert info["scoring_cascade"] == cascade


@pytest.mark.slow
def test_cli_serves_until_sigterm_and_finishes_the_request_in_flight(trained_bundle):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "COMPLAINTKIT_API_KEY": "k"}
    process = subprocess.Popen([sys.executable, "-m", "complaintkit", "serve", "--model", str(trained_bundle.path),
                                "--port", str(port), "--grace-seconds", "600"], env=env, stderr=subprocess.PIPE,
                               text=True)
    base, headers = f"http://127.0.0.1:{port}", {API_KEY_HEADER: "k"}
    try:
        deadline = time.monotonic() + 300  # loading the model takes long on a busy machine
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert httpx.get(f"{base}/health").status_code == 200
        rows = [{"text": f"complaint {i}: charged {i} times for order {i * 7}", "tenure": i, "plan": "basic"}
                for i in range(300)]  # not in the embedding cache: takes seconds to score
        answers = []
        request = threading.Thread(target=lambda: answers.append(
            httpx.post(f"{base}/v1/score", json={"rows": rows}, headers=headers, timeout=600)))
        request.start()
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        request.join(timeout=600)
        assert answers and answers[0].status_code == 200 and len(answers[0].json()["rows"]) == 300
        assert process.wait(timeout=600) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once drained
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/health")
    finally:
        process.kill()
        process.wait()


def test_serve_refuses_a_bad_limit_in_one_line(tmp_path: Path, trained_bundle):
    result = CliRunner().invoke(main, ["serve", "--model", str(trained_bundle.path), "--max-texts", "0"])
    assert result.exit_code == 2 and "--max-texts" in result.output
