"""The HTTP scoring service: a thin FastAPI layer over the bundle's prediction function.

``create_app`` builds the ASGI app around a loaded bundle; ``serve`` loads a bundle once and
runs it under uvicorn. FastAPI and uvicorn are imported here only, so importing complaintkit
does not need them (``pip install 'complaintkit[serve]'``).
"""

from .app import create_app
from .limits import API_KEY_ENV, API_KEY_HEADER, ServeLimits
from .server import serve

__all__ = ["API_KEY_ENV", "API_KEY_HEADER", "ServeLimits", "create_app", "serve"]
