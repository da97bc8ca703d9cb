"""`complaintkit serve`."""

from __future__ import annotations

from pathlib import Path

import click

from ..embedding import PRECISION_CHOICES
from ._options import cascade_option, examples, load_bundle, model_option


@click.command("serve", epilog=examples(
    "complaintkit serve --model models/mine --port 8000",
    "curl -s localhost:8000/v1/score -H 'Content-Type: application/json' -d '{\"texts\": [\"charged twice\"]}'"))
@model_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 accepts connections from other machines.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--api-key", envvar="COMPLAINTKIT_API_KEY", show_envvar=True,
              help="Require this key in the X-API-Key header of /v1/* requests. Default: no key.")
@click.option("--max-texts", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Complaints per request (more → 422).")
@click.option("--max-chars", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Characters per complaint text (more → 422).")
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=10_000_000, show_default=True,
              help="Request body size (more → 413).")
@click.option("--precision", type=click.Choice(PRECISION_CHOICES), default="auto", show_default=True,
              help="Encoder precision, as for `complaintkit score`.")
@cascade_option
@click.option("--threads", type=click.IntRange(min=1), help="Torch threads. Default: as `complaintkit score`.")
@click.option("--grace-seconds", type=click.IntRange(min=0), default=30, show_default=True,
              help="After Ctrl-C or SIGTERM, how long requests in flight may take to finish.")
def serve_command(model_path: Path, host: str, port: int, api_key: str | None, max_texts: int, max_chars: int,
                  max_body_bytes: int, precision: str, cascade: str, threads: int | None, grace_seconds: int) -> None:
    """Serve a bundle over HTTP: POST /v1/score, GET /v1/model, GET /health, docs at /docs.

    The bundle is loaded once; Ctrl-C or SIGTERM finishes the requests in flight and stops.
    """
    try:
        from ..serve import ServeLimits, serve
    except ImportError as exc:
        raise click.ClickException(f"serving needs FastAPI and uvicorn ({exc.name} is not installed); "
                                   "pip install 'complaintkit[serve]'.") from None
    serve(load_bundle(model_path), host=host, port=port, api_key=api_key, precision=precision, cascade=cascade,
          threads=threads, grace_seconds=grace_seconds,
          limits=ServeLimits(max_texts=max_texts, max_chars=max_chars, max_body_bytes=max_body_bytes))
