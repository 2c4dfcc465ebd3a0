"""The query encoder: the embedding model exported to ONNX at build time, run by ONNX Runtime at query time.

Why: importing sentence-transformers pulls in torch and transformers (~10 s of
a cold `kb search`), and embedding one short query needs none of it. `kb build`
has torch loaded anyway, so it exports the model's transformer once to
`<db>.onnx`; search then needs only onnxruntime, `tokenizers` and NumPy, and
does the pooling and normalisation the model's sentence-transformers config
asks for (modules.json, 1_Pooling/config.json) in NumPy.

For a BERT model the traced graph is then fused by ONNX Runtime's transformer
optimizer (attention, embedding + LayerNorm, skip + LayerNorm, bias + GELU) and
given int32 inputs; the fused graph computes the same vectors (checked at export
against the traced one) in fewer, larger kernels, and loads in about half the time.

The export's fingerprint (`<db>.onnx.json`: model id, sha256 of the weights
file, dimension, opset, and the graph recipe: optimizer, its onnxruntime version
and options) decides reuse: an export whose fingerprint matches is linked or
copied, never redone, from the previous database or from a per-user cache (so
the many builds of a test run export once). A new onnxruntime or other options
make the recorded recipe differ, so the next build exports afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import IndexMissing, IndexStale

EXPORT_FORMAT = 1
OPSET = 17
CACHE_ENV = "KB_ONNX_CACHE"
POOLING_MODES = ("mean", "cls", "max")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# What became of the recipe, recorded beside it; not part of the comparison (the recipe decides reuse).
_OUTCOME_KEYS = ("fused", "fusion_note")
# Vectors from the fused graph must match the traced one this closely, or the traced graph is kept.
MAX_FUSION_GAP = 1e-6
_FUSION_PROBES = (
    "do kind anaesthetists cut painkiller use",
    "HIV",
    "compasión en el cuidado 糖尿病 😀",
    "COVID-19 mortality in ICU patients (n = 1,234; OR 0.82, 95% CI 0.70–0.96)",
    "nurse burnout and patient satisfaction " * 60,  # past the model's max length: truncation path
)


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


def graph_recipe(model_dir: str | os.PathLike) -> dict:
    """How the traced graph is optimised before it is saved: ORT's BERT fusions, or nothing for other models."""
    import onnxruntime

    try:
        config = json.loads((Path(model_dir) / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    if config.get("model_type") != "bert":
        return {"optimizer": None}
    return {
        "optimizer": "onnxruntime.transformers.optimizer",
        "onnxruntime": onnxruntime.__version__,
        "model_type": "bert",
        "num_heads": int(config["num_attention_heads"]),
        "hidden_size": int(config["hidden_size"]),
        # Level 1 (constant folding, redundant nodes) is hardware-independent; 2 and 99 would not be.
        "opt_level": 1,
        "input_dtype": "int32",
    }


def export_fingerprint(model_id: str, model_dir: str | os.PathLike, dimension: int) -> dict:
    return _expected_fingerprint(model_id, weights_sha256(model_dir), dimension, model_dir)


def _expected_fingerprint(model_id: str, weights: str | None, dimension: int, model_dir) -> dict:
    return {
        "format": EXPORT_FORMAT,
        "model": model_id,
        "weights_sha256": weights,
        "dimension": int(dimension),
        "opset": OPSET,
        **pipeline_config(model_dir),
        "graph": graph_recipe(model_dir),
    }


def _same_export(recorded: dict | None, expected: dict, *, by_model: bool = True) -> bool:
    """recorded describes the export expected would produce (the model id counts only when by_model)."""
    if recorded is None:
        return False
    ignored = _OUTCOME_KEYS if by_model else (*_OUTCOME_KEYS, "model")
    return {k: v for k, v in recorded.items() if k not in ignored} == {
        k: v for k, v in expected.items() if k not in ignored
    }


def _cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evidence-kb" / "onnx"


def _cache_key(fingerprint: dict) -> str:
    # The export depends on the weights, pipeline and recipe, not on the name the model is known by.
    recipe = {k: v for k, v in fingerprint.items() if k not in (*_OUTCOME_KEYS, "model")}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:24]


def _place(source: Path, target: Path) -> None:
    """Hard-link when possible (the file is never written in place, so sharing it is safe), else copy."""
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        import shutil

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
    if onnx_path.is_file() and _same_export(read_export_fingerprint(onnx_path), fingerprint):
        return "kept"
    if previous is not None:
        old = onnx_path_for(previous)
        recorded = read_export_fingerprint(old)
        if old.is_file() and old.resolve() != onnx_path.resolve() and _same_export(recorded, fingerprint):
            _place(old, onnx_path)
            write.write_text(json.dumps({**fingerprint, **_outcome(recorded)}, indent=2) + "\n")
            return "reused"
    cached = _cache_dir() / f"{_cache_key(fingerprint)}.onnx"
    how = "cached"
    if not (cached.is_file() and _same_export(read_export_fingerprint(cached), fingerprint, by_model=False)):
        import tempfile  # build-time only, like shutil: search never needs either

        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
            exported = Path(tmp) / "model.onnx"
            outcome = _export(model_dir, exported, fingerprint)
            fingerprint_path_of(cached).write_text(json.dumps({**fingerprint, **outcome}, indent=2) + "\n")
            os.replace(exported, cached)
        how = "exported"
    _place(cached, onnx_path)
    outcome = _outcome(read_export_fingerprint(cached))
    write.write_text(json.dumps({**fingerprint, **outcome}, indent=2) + "\n")
    return how


def _outcome(recorded: dict | None) -> dict:
    return {k: v for k, v in (recorded or {}).items() if k in _OUTCOME_KEYS}


def _export(model_dir, target: Path, fingerprint: dict) -> dict:
    """Trace the model to target, then apply the fingerprint's graph recipe; returns the outcome to record."""
    recipe = fingerprint["graph"]
    if recipe.get("optimizer") is None:
        _trace(model_dir, target)
        return {"fused": False}
    traced = target.with_name("traced.onnx")
    _trace(model_dir, traced)
    fused = target.with_name("fused.onnx")
    try:
        _fuse(traced, fused, recipe)
        gap = _vector_gap(traced, fused, model_dir, fingerprint)
    except Exception as exc:  # the optimizer is best effort: any failure keeps the traced graph, which is exact
        os.replace(traced, target)
        return {"fused": False, "fusion_note": f"fusion failed ({type(exc).__name__}: {exc}); traced graph kept"}
    if gap > MAX_FUSION_GAP:
        os.replace(traced, target)
        return {"fused": False, "fusion_note": f"fused graph moved vectors by 1 - cosine {gap:.1e}; traced kept"}
    os.replace(fused, target)
    traced.unlink()
    return {"fused": True}


def _fuse(source: Path, target: Path, recipe: dict) -> None:
    import logging

    from onnxruntime.transformers.optimizer import optimize_model

    # The optimizer logs every fusion it tries at WARNING; the build has its own report.
    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    model = optimize_model(
        str(source),
        model_type=recipe["model_type"],
        num_heads=recipe["num_heads"],
        hidden_size=recipe["hidden_size"],
        opt_level=recipe["opt_level"],
        use_gpu=False,
    )
    if recipe.get("input_dtype") == "int32":
        # The fused embedding op takes int32 ids: int32 inputs drop the Cast nodes in front of it.
        model.change_graph_inputs_to_int32()
    model.save_model_to_file(str(target))


def _vector_gap(traced: Path, fused: Path, model_dir, fingerprint: dict) -> float:
    """Largest 1 - cosine between the two graphs' vectors on a few varied probe texts."""
    a = OnnxQueryEncoder(traced, model_dir, fingerprint).encode(list(_FUSION_PROBES))
    b = OnnxQueryEncoder(fused, model_dir, fingerprint).encode(list(_FUSION_PROBES))
    return float(np.max(1.0 - (a * b).sum(axis=1)))


def _trace(model_dir, target: Path) -> None:
    """Trace the transformer (token ids -> last hidden state) with torch's TorchScript-based exporter."""
    import torch
    from transformers import AutoModel

    from .model import _quiet_transformers, use_offline_hub

    use_offline_hub()
    _quiet_transformers()
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
        inputs = {i.name: i.type for i in self.session.get_inputs()}
        # Fused exports take int32 ids, traced ones int64; the graph says which.
        dtype = np.int32 if inputs.get("input_ids") == "tensor(int32)" else np.int64
        self.pooling = fingerprint["pooling"]
        self.normalize = fingerprint["normalize"]
        self.dimension = int(fingerprint["dimension"])
        max_length = int(fingerprint["max_length"])
        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        self._dtype = dtype
        # One unpadded text per run: its mask is all ones and its token types all zero, so both
        # are views of buffers made once rather than arrays built per query.
        self._fixed = {
            name: buffer
            for name, buffer in (
                ("attention_mask", np.ones((1, max_length), dtype)),
                ("token_type_ids", np.zeros((1, max_length), dtype)),
            )
            if name in inputs
        }
        self._outputs = [self.session.get_outputs()[0].name]

    def encode(self, texts: list[str]) -> np.ndarray:
        # One text per run: no padding, so the mask is all ones and nothing is computed twice.
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.stack([self._encode_one(t) for t in texts])

    def _encode_one(self, text: str) -> np.ndarray:
        ids = np.array(self.tokenizer.encode(text).ids, dtype=self._dtype)[None]
        n = ids.shape[1]
        feed = {name: buffer[:, :n] for name, buffer in self._fixed.items()}
        feed["input_ids"] = ids
        hidden = self.session.run(self._outputs, feed)[0][0]
        if self.pooling == "mean":
            pooled = hidden.mean(0)
        elif self.pooling == "cls":
            pooled = hidden[0]
        else:
            pooled = hidden.max(0)
        if self.normalize:
            norm = np.linalg.norm(pooled)
            if norm > 0:
                pooled /= norm
        return pooled

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        """Several texts in one session run over a padded batch; each row equals encode() of its text alone.

        For concurrent queries (search/batching.py): one run and one GIL release for the lot. Padding is
        masked out of attention and of the pooling, so it changes no vector.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        # _fixed holds exactly the graph's optional inputs (attention_mask, token_type_ids).
        if len(texts) == 1 or "attention_mask" not in self._fixed:
            # Without a mask input padding would be attended to; one text needs no padding.
            return self.encode(texts)
        encodings = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), self._dtype)
        mask = np.zeros((len(texts), width), self._dtype)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._fixed:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(self._outputs, feed)[0]
        keep = mask[..., None].astype(bool)
        if self.pooling == "mean":
            pooled = np.where(keep, hidden, 0).sum(1) / keep.sum(1)
        elif self.pooling == "cls":
            pooled = hidden[:, 0].copy()
        else:
            pooled = np.where(keep, hidden, -np.inf).max(1)
        pooled = pooled.astype(np.float32, copy=False)
        if self.normalize:
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            np.divide(pooled, norms, out=pooled, where=norms > 0)
        return pooled


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
    try:
        return _load_beside(onnx_path, model_dir, fingerprint)
    except _session_errors() as exc:
        # e.g. a fused graph written by a newer onnxruntime than the one installed now
        raise IndexStale(f"The query encoder {onnx_path} cannot be loaded: {exc}. " + _rebuild_hint(db_path)) from exc


def _session_errors() -> tuple[type[BaseException], ...]:
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidGraph", "InvalidProtobuf", "InvalidArgument", "NoSuchFile", "NotImplemented")
    return tuple(getattr(state, name) for name in names if hasattr(state, name))


def _from_cache(model_id, dimension, model_dir, weights, onnx_path, fingerprint):
    try:
        expected = _expected_fingerprint(model_id, weights, dimension, model_dir)
    except (UnsupportedModel, OSError, ValueError):
        return onnx_path, fingerprint
    cached = _cache_dir() / f"{_cache_key(expected)}.onnx"
    recorded = read_export_fingerprint(cached)
    if cached.is_file() and _same_export(recorded, expected, by_model=False):
        return cached, {**recorded, "model": model_id}
    return onnx_path, fingerprint


def _load_beside(onnx_path: Path, model_dir: str, fingerprint: dict) -> OnnxQueryEncoder:
    stat = onnx_path.stat()
    return _load(str(onnx_path), stat.st_ino, stat.st_mtime_ns, model_dir, json.dumps(fingerprint, sort_keys=True))


@lru_cache(maxsize=4)
def _load(onnx_path: str, inode: int, mtime_ns: int, model_dir: str, fingerprint_json: str) -> OnnxQueryEncoder:
    return OnnxQueryEncoder(onnx_path, model_dir, json.loads(fingerprint_json))


def record_unsupported(onnx_path: str | os.PathLike, model_id: str, reason: str) -> None:
    """Say in the fingerprint that no export exists on purpose, so search knows to use sentence-transformers."""
    Path(onnx_path).unlink(missing_ok=True)
    fingerprint_path_of(onnx_path).write_text(
        json.dumps({"format": EXPORT_FORMAT, "model": model_id, "unsupported": reason}, indent=2) + "\n"
    )
