"""The FastAPI app: ``POST /v1/score``, ``GET /v1/model``, ``GET /health`` and the OpenAPI docs.

Scoring runs the very chunk function of ``complaintkit score`` (:meth:`ChunkJob.run`, whose
predictions are :meth:`Bundle.predict`'s ``predict_frame``), so a request gets the rows,
columns and rejects the command would write for the same table.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from typing import Any

import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..bundle import Bundle
from ..exceptions import InputError
from ..heads.cascade import full_head
from ..io import join_text_columns
from ..scoring.columns import log_cascade, root_cause_head
from ..scoring.job import ChunkJob
from .limits import API_KEY_HEADER, ServeLimits
from .model_info import model_info


class ScoreRequest(BaseModel):
    """Complaints to score: plain ``texts``, or ``rows`` with the columns the model reads."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"texts": ["I was charged twice for my ticket and nobody answers the phone"]},
        {"rows": [{"complaint_id": "c-1", "text": "My internet has been down for three days", "tenure": 4}]},
    ]})
    texts: list[str] | None = Field(None, description="Complaint texts; each becomes a row with the model's "
                                                      "(first) text column.")
    rows: list[dict[str, Any]] | None = Field(None, description="Complaints as objects: the model's text "
                                                                 "column(s), the columns its churn head reads, "
                                                                 "and any others (returned as given).")


class ScoreResponse(BaseModel):
    """Scored rows (``row_number`` = position in the request) and rows that could not be scored."""

    rows: list[dict[str, Any]]
    rejects: list[dict[str, Any]] = Field(description="Rows with a reject_reason (e.g. empty_text), as "
                                                      "`complaintkit score` writes to its rejects file.")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain-Python dicts (NaN → null); floats keep every bit, so clients see what score writes."""
    columns = [str(c) for c in frame.columns]
    values = [frame[c].tolist() for c in frame.columns]
    return [{c: (None if isinstance(v, float) and math.isnan(v) else v) for c, v in zip(columns, row, strict=True)}
            for row in zip(*values, strict=True)]


def _one_line(exc: RequestValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    expected = '{"texts": [...]} or {"rows": [...]}'
    return f"request field {where}: {error.get('msg', 'invalid')}; expected {expected}."


class _BodyLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413, by header or while streaming."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def _message(self, found: str) -> str:
        return (f"request body is {found} bytes; at most {self.max_bytes:,} are accepted. "
                "Send fewer or shorter complaints per request.")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            response = JSONResponse({"detail": self._message(f"{int(length):,}")}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message(f"more than {self.max_bytes:,}"))
            return message

        await self.app(scope, limited_receive, send)


def _request_frame(request: ScoreRequest, bundle: Bundle, limits: ServeLimits) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The table and text columns of a request, or ``InputError`` saying what is wrong with it."""
    if (request.texts is None) == (request.rows is None):
        raise InputError('send exactly one of "texts" (a list of strings) or "rows" (a list of objects).')
    items = request.texts if request.texts is not None else request.rows
    if not items:
        raise InputError("the request holds no complaint; send at least one.")
    if len(items) > limits.max_texts:
        raise InputError(f"the request holds {len(items):,} complaints; at most {limits.max_texts:,} are accepted "
                         "per request. Split it into several requests.")
    if request.texts is not None:
        text_cols: tuple[str, ...] = (bundle.text_cols[0],)
        frame = pd.DataFrame({text_cols[0]: pd.Series(request.texts, dtype=object)})
    else:
        text_cols = tuple(bundle.text_cols)
        frame = pd.DataFrame.from_records(request.rows)
    needed = [*text_cols, *((*bundle.churn.numeric_cols, *bundle.churn.categorical_cols) if bundle.churn else ())]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"the model reads the fields {needed}; {missing} are missing. Send \"rows\" with them.")
    lengths = join_text_columns(frame, text_cols).str.len()
    too_long = lengths[lengths > limits.max_chars]
    if not too_long.empty:
        raise InputError(f"complaint {int(too_long.index[0])} has {int(too_long.iloc[0]):,} characters; at most "
                         f"{limits.max_chars:,} are accepted per text. Shorten or split it.")
    return frame, text_cols


def create_app(bundle: Bundle, *, limits: ServeLimits | None = None, api_key: str | None = None,
               precision: str = "fp32", cascade: str = "on") -> FastAPI:
    """The scoring service for ``bundle`` (a saved one, already loaded).

    Parameters
    ----------
    bundle : Bundle
        Loaded once by the caller; every request uses it.
    limits : ServeLimits or None, default=None
        Request limits; ``None`` uses the defaults.
    api_key : str or None, default=None
        When set, ``/v1/*`` requests must send it in the ``X-API-Key`` header (else 401).
    precision : {"fp32", "bf16", "int8"}, default="fp32"
        Encoder precision as run (resolved from "auto" by the caller, as ``score`` does).
    cascade : {"on", "off"}, default="on"
        "off": the full root-cause head of a bundle trained with a scoring cascade answers every
        row (:func:`~complaintkit.scoring.columns.root_cause_head`), as ``score --cascade off``.
    """
    if bundle.path is None:
        raise InputError("the service needs a saved bundle (Bundle.load or Bundle.save); this one has no path.")
    limits = limits or ServeLimits()
    head = root_cause_head(bundle, cascade)
    log_cascade(bundle, cascade)
    if head is not None:  # load the models now; a cascade's fast head may answer the warm-up without the transformer
        for model in dict.fromkeys((head, full_head(head))):
            model.predict_proba(["warm-up"])
    info = model_info(bundle, limits, precision, cascade)
    lock = threading.Lock()  # one prediction at a time: torch already uses every core it is given
    header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                          description="Required when the service was started with an API key.")

    def check_key(given: str | None = Depends(header)) -> None:
        if api_key is not None and not (given and hmac.compare_digest(given.encode(), api_key.encode())):
            raise HTTPException(401, f"missing or wrong API key; send it in the {API_KEY_HEADER} header.")

    app = FastAPI(title="complaintkit", version=__version__,
                  description="Scores complaints with a complaintkit bundle: root cause, top-3 causes, "
                              "needs_review and churn probability, the columns of `complaintkit score`.")
    app.add_middleware(_BodyLimit, max_bytes=limits.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    @app.exception_handler(InputError)
    async def _bad_input(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/health", summary="Liveness: the bundle is loaded")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": info["name"]}

    @app.get("/v1/model", summary="Labels, metrics, versions and hashes of the loaded bundle",
             dependencies=[Depends(check_key)])
    def model() -> dict[str, Any]:
        return info

    @app.post("/v1/score", summary="Score one or many complaints", response_model=ScoreResponse,
              dependencies=[Depends(check_key)])
    def score(request: ScoreRequest) -> JSONResponse:
        frame, text_cols = _request_frame(request, bundle, limits)
        job = ChunkJob(source=str(bundle.path), text_cols=text_cols, max_chars=limits.max_chars, precision=precision,
                       cascade=cascade)
        start = time.perf_counter()
        with lock:
            output, rejected = job.run(frame, 0, bundle)
        headers = {"X-Score-Seconds": f"{time.perf_counter() - start:.4f}"}
        return JSONResponse({"rows": _records(output), "rejects": _records(rejected)}, headers=headers)

    return app
