"""Run the scoring service under uvicorn: load the bundle once, serve until SIGINT/SIGTERM."""

from __future__ import annotations

import os

from .. import _logging
from ..bundle import Bundle
from ..embedding import resolve_precision
from ..engines.local import default_threads, set_torch_threads
from .limits import API_KEY_ENV, ServeLimits

GRACE_SECONDS = 30


def serve(bundle: Bundle, *, host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None,
          limits: ServeLimits | None = None, precision: str = "auto", cascade: str = "on",
          threads: int | None = None, grace_seconds: int = GRACE_SECONDS) -> None:
    """Serve ``bundle`` over HTTP until the process is interrupted.

    The bundle is loaded by the caller (once) and warmed up before the port opens. On SIGINT or SIGTERM
    the server stops accepting connections and finishes the requests in flight (for at most
    ``grace_seconds``) before it exits.

    Parameters
    ----------
    bundle : Bundle
        A saved bundle (:meth:`Bundle.load`).
    host : str, default="127.0.0.1"
        Interface to listen on; the default accepts local connections only.
    port : int, default=8000
    api_key : str or None, default=None
        Key clients must send in the ``X-API-Key`` header; ``None`` reads
        ``$COMPLAINTKIT_API_KEY`` and, when that is unset too, asks for no key.
    limits : ServeLimits or None, default=None
    precision : {"auto", "fp32", "bf16", "int8"}, default="auto"
        Encoder precision, resolved as by ``complaintkit score``.
    cascade : {"on", "off"}, default="on"
        "off": the full root-cause head of a bundle trained with a scoring cascade answers every
        row, as ``complaintkit score --cascade off``.
    threads : int or None, default=None
        Torch threads; ``None`` chooses as ``score`` does (1 when the machine is busy).
    grace_seconds : int, default=30
        How long requests in flight may take to finish after SIGINT/SIGTERM.
    """
    import uvicorn

    from .app import create_app

    resolved = resolve_precision(precision)
    threads = threads if threads is not None else default_threads(1)
    set_torch_threads(threads)
    app = create_app(bundle, limits=limits, api_key=api_key or os.environ.get(API_KEY_ENV) or None,
                     precision=resolved, cascade=cascade)
    _logging.logger.info("serving %s on http://%s:%d (encoder %s, torch threads %s); docs at /docs",
                         bundle.path, host, port, resolved, threads or "torch's default")
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=grace_seconds,
                access_log=False)
