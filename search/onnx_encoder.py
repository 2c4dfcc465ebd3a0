"""The query encoder: the embedding model exported to ONNX at build time, run by ONNX Runtime at query time.

Why: importing sentence-transformers pulls in torch and transformers (~10 s of
a cold `kb search`), and embedding one short query needs none of it. `kb build`
has torch loaded anyway, so it exports the model's transformer once to
`<db>.onnx`; search then needs only onnxruntime, `tokenizers` and NumPy, and
does the pooling and normalisation the model's sentence-transformers config
asks for (modules.json, 1_Pooling/config.json) in NumPy.

The export's fingerprint (`<db>.onnx.json`: model id, sha256 of the weights
file, dimension, opset) decides reuse: an export whose fingerprint matches is
linked or copied, never redone, from the previous database or from a
per-user cache (so the many builds of a test run export once).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import IndexMissing, IndexStale

EXPORT_FORMAT = 1
OPSET = 17
CACHE_ENV = "KB_ONNX_CACHE"
POOLING_MODES = ("mean", "cls", "max")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class UnsupportedModel(Exception):
    """The model's sentence-transformers pipeline is not Transformer + Pooling (+ Normalize)."""


def onnx_path_for(db_path: str | os.PathLike) -> Path:
    """build/kb.db -> build/kb.db.onnx (beside the FAISS index)."""
    return Path(str(db_path) + ".onnx")


def fingerprint_path_of(onnx_path: str | os.PathLike) -> Path:
    return Path(str(onnx_path) + ".json")


def read_export_fingerprint(onnx_path: str | os.PathLike) -> dict | None:
    try:
        return json.loads(fingerprint_path_of(onnx_path).read_text())
    except (OSError, ValueError):
        return None


def weights_file(model_dir: str | os.PathLike) -> Path | None:
    d = Path(model_dir)
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (d / name).is_file():
            return d / name
    return None


@lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def weights_sha256(model_dir: str | os.PathLike) -> str | None:
    """sha256 of the model's weights file (None when the model is not a local directory)."""
    path = weights_file(model_dir)
    if path is None:
        return None
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


def pipeline_config(model_dir: str | os.PathLike) -> dict:
    """Pooling mode, normalisation and max length from the model's sentence-transformers files."""
    d = Path(model_dir)
    try:
        modules = json.loads((d / "modules.json").read_text())
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((d / pooling_dir / "config.json").read_text())
    except (OSError, ValueError, StopIteration, KeyError, TypeError) as exc:
        raise UnsupportedModel(f"{d} has no readable sentence-transformers modules.json / pooling config") from exc
    if types not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModel(f"{d} runs modules {types}; only Transformer, Pooling[, Normalize] is exported")
    modes = [
        m for m in POOLING_MODES if pooling.get(f"pooling_mode_{m}_tokens" if m != "cls" else "pooling_mode_cls_token")
    ]
    if len(modes) != 1 or pooling.get("pooling_mode_mean_sqrt_len_tokens"):
        raise UnsupportedModel(f"{d} pools with {pooling}; only one of mean, cls or max is supported")
    st_config = {}
    if (d / "sentence_bert_config.json").exists():
        st_config = json.loads((d / "sentence_bert_config.json").read_text())
    config = json.loads((d / "config.json").read_text())
    max_length = min(st_config.get("max_seq_length") or 512, config.get("max_position_embeddings", 512))
    return {"pooling": modes[0], "normalize": types[-1] == "Normalize", "max_length": int(max_length)}


def export_fingerprint(model_id: str, model_dir: str | os.PathLike, dimension: int) -> dict:
    return {
        "format": EXPORT_FORMAT,
        "model": model_id,
        "weights_sha256": weights_sha256(model_dir),
        "dimension": int(dimension),
        "opset": OPSET,
        **pipeline_config(model_dir),
    }


def _cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evidence-kb" / "onnx"


def _cache_key(fingerprint: dict) -> str:
    # The export depends on the weights and pipeline, not on the name the model is known by.
    return hashlib.sha256(json.dumps(_without_id(fingerprint), sort_keys=True).encode()).hexdigest()[:24]


def _without_id(fingerprint: dict | None) -> dict | None:
    return None if fingerprint is None else {k: v for k, v in fingerprint.items() if k != "model"}


def _place(source: Path, target: Path) -> None:
    """Hard-link when possible (the file is never written in place, so sharing it is safe), else copy."""
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def ensure_export(
    model_id: str, model_dir: str | os.PathLike, dimension: int, onnx_path: str | os.PathLike, previous=None
) -> str:
    """Make onnx_path hold the model's ONNX export; returns how: 'kept', 'reused', 'cached' or 'exported'.

    Raises UnsupportedModel for a model whose pipeline this module cannot reproduce.
    """
    onnx_path = Path(onnx_path)
    fingerprint = export_fingerprint(model_id, model_dir, dimension)
    if fingerprint["weights_sha256"] is None:
        raise UnsupportedModel(f"{model_dir} has no model.safetensors or pytorch_model.bin to export")
    write = fingerprint_path_of(onnx_path)
    if onnx_path.is_file() and read_export_fingerprint(onnx_path) == fingerprint:
        return "kept"
    if previous is not None:
        old = onnx_path_for(previous)
        if old.is_file() and old.resolve() != onnx_path.resolve() and read_export_fingerprint(old) == fingerprint:
            _place(old, onnx_path)
            write.write_text(json.dumps(fingerprint, indent=2) + "\n")
            return "reused"
    cached = _cache_dir() / f"{_cache_key(fingerprint)}.onnx"
    how = "cached"
    if not (cached.is_file() and _without_id(read_export_fingerprint(cached)) == _without_id(fingerprint)):
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
            exported = Path(tmp) / "model.onnx"
            _export(model_dir, exported)
            fingerprint_path_of(cached).write_text(json.dumps(fingerprint, indent=2) + "\n")
            os.replace(exported, cached)
        how = "exported"
    _place(cached, onnx_path)
    write.write_text(json.dumps(fingerprint, indent=2) + "\n")
    return how


def _export(model_dir, target: Path) -> None:
    """Trace the transformer (token ids -> last hidden state) with torch's TorchScript-based exporter."""
    import torch
    from transformers import AutoModel

    from .model import use_offline_hub

    use_offline_hub()
    # Eager attention traces to plain MatMul/Softmax; SDPA bakes shape checks into the trace.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    ids = torch.ones((1, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about constants that are constant for BERT
        torch.onnx.export(
            LastHiddenState(model),
            (ids, ids, torch.zeros_like(ids)),
            str(target),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


def _rebuild_hint(db_path) -> str:
    return f"Rebuild with `kb build --db {db_path}` (it exports the query encoder), or search with --mode keyword."


class OnnxQueryEncoder:
    """encode(texts) -> (n, dimension) float32, pooled and normalised as the model's config says."""

    def __init__(self, onnx_path: str | os.PathLike, model_dir: str | os.PathLike, fingerprint: dict):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # One query is a chain of small matrix products: more threads only contend
        # with other requests (and FAISS's OpenMP pool) for the two cores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.pooling = fingerprint["pooling"]
        self.normalize = fingerprint["normalize"]
        self.dimension = int(fingerprint["dimension"])
        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(fingerprint["max_length"]))
        self.tokenizer.no_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        # One text per run: no padding, so the mask is all ones and nothing is computed twice.
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.stack([self._encode_one(t) for t in texts])

    def _encode_one(self, text: str) -> np.ndarray:
        encoding = self.tokenizer.encode(text)
        feed = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.input_names})[0][0]
        if self.pooling == "mean":
            pooled = hidden.mean(0)
        elif self.pooling == "cls":
            pooled = hidden[0]
        else:
            pooled = hidden.max(0)
        if self.normalize:
            norm = np.linalg.norm(pooled)
            pooled = pooled / norm if norm > 0 else pooled
        return pooled.astype(np.float32)


def encoder_for_index(
    db_path: str | os.PathLike, model_id: str, dimension: int, model_dir: str, weights: str | None = None
):
    """The ONNX encoder beside db_path, checked against the index it must match; raises IndexMissing/IndexStale.

    None when the build recorded that the model cannot be exported (search then
    uses sentence-transformers). When <db>.onnx is absent but the index records
    the weights' sha256, the per-user export cache is tried by fingerprint.
    """
    onnx_path = onnx_path_for(db_path)
    fingerprint = read_export_fingerprint(onnx_path)
    if fingerprint is not None and fingerprint.get("unsupported"):
        return None
    if (fingerprint is None or not onnx_path.is_file()) and weights:
        onnx_path, fingerprint = _from_cache(model_id, dimension, model_dir, weights, onnx_path, fingerprint)
    if fingerprint is None or not onnx_path.is_file():
        raise IndexMissing(f"The query encoder {onnx_path} is missing. {_rebuild_hint(db_path)}")
    if (
        fingerprint.get("format") != EXPORT_FORMAT
        or fingerprint.get("model") != model_id
        or fingerprint.get("dimension") != dimension
    ):
        raise IndexStale(
            f"The query encoder {onnx_path} was exported for model {fingerprint.get('model')!r} "
            f"(dimension {fingerprint.get('dimension')}), but the index holds {model_id!r} ({dimension}). "
            + _rebuild_hint(db_path)
        )
    stat = onnx_path.stat()
    return _load(str(onnx_path), stat.st_ino, stat.st_mtime_ns, model_dir, json.dumps(fingerprint, sort_keys=True))


def _from_cache(model_id, dimension, model_dir, weights, onnx_path, fingerprint):
    try:
        expected = {
            "format": EXPORT_FORMAT,
            "model": model_id,
            "weights_sha256": weights,
            "dimension": int(dimension),
            "opset": OPSET,
            **pipeline_config(model_dir),
        }
    except (UnsupportedModel, OSError, ValueError):
        return onnx_path, fingerprint
    cached = _cache_dir() / f"{_cache_key(expected)}.onnx"
    if cached.is_file() and _without_id(read_export_fingerprint(cached)) == _without_id(expected):
        return cached, expected
    return onnx_path, fingerprint


@lru_cache(maxsize=4)
def _load(onnx_path: str, inode: int, mtime_ns: int, model_dir: str, fingerprint_json: str) -> OnnxQueryEncoder:
    return OnnxQueryEncoder(onnx_path, model_dir, json.loads(fingerprint_json))


def record_unsupported(onnx_path: str | os.PathLike, model_id: str, reason: str) -> None:
    """Say in the fingerprint that no export exists on purpose, so search knows to use sentence-transformers."""
    Path(onnx_path).unlink(missing_ok=True)
    fingerprint_path_of(onnx_path).write_text(
        json.dumps({"format": EXPORT_FORMAT, "model": model_id, "unsupported": reason}, indent=2) + "\n"
    )
