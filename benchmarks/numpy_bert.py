"""Baseline for benchmarks only: the hand-written NumPy BERT query encoder search used before ONNX Runtime.

Why this exists: importing sentence-transformers pulls in torch, transformers,
scikit-learn and scipy, which costs ~10 s of a cold `kb search`. Embedding one
short query needs none of that. For the common model shape (BERT encoder, mean
pooling, optional Normalize — all-MiniLM-L6-v2 among them) this module reads
the safetensors weights and the fast tokenizer directly and computes the same
vectors (cosine > 0.9999 with sentence-transformers). Search now uses the ONNX
export (search/onnx_encoder.py); this stays as the baseline bench_encoder.py
measures it against, in the same run.
"""

from __future__ import annotations

import contextlib
import json
import struct
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def supports(model_dir: str | Path) -> bool:
    """True when model_dir is a local BERT + mean-pooling model this module can run exactly."""
    d = Path(model_dir)
    try:
        modules = json.loads((d / "modules.json").read_text())
        config = json.loads((d / "config.json").read_text())
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((d / pooling_dir / "config.json").read_text())
    except (OSError, ValueError, StopIteration, KeyError, TypeError):
        return False
    types = [m["type"].rsplit(".", 1)[-1] for m in modules]
    return (
        types in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
        and modules[0].get("path", "") == ""
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(
            pooling.get(k)
            for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
        )
        and (d / "model.safetensors").exists()
        and (d / "tokenizer.json").exists()
    )


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file, memory-mapped (the format is a JSON header + raw bytes)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    header_len = struct.unpack("<Q", raw[:8].tobytes())[0]
    header = json.loads(raw[8 : 8 + header_len].tobytes())
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in _DTYPES:
            continue
        start, end = info["data_offsets"]
        array = raw[base + start : base + end].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name.removeprefix("bert.")] = array
    return tensors


_blas = None


def _one_blas_thread():
    """Run BLAS single-threaded for the duration of a query encode.

    A one-query forward pass is a chain of small matrix products: OpenBLAS
    threads gain nothing there, and once FAISS's OpenMP pool exists in the
    same process they contend for the cores (measured 30-50 ms vs 18-21 ms
    per query on 2 cores). threadpoolctl comes with sentence-transformers
    (via scikit-learn); without it this is a no-op.
    """
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        except ImportError:
            _blas = False
    if _blas is False:
        return contextlib.nullcontext()
    return _blas.limit(limits=1, user_api="blas")


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 noise here):
    # numpy has no erf and scipy would cost the import time this module saves.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class NumpyBertEncoder:
    """encode(texts) -> float32 array (n, dim), L2-normalised like sentence-transformers with Normalize."""

    def __init__(self, model_dir: str | Path):
        from tokenizers import Tokenizer

        d = Path(model_dir)
        config = json.loads((d / "config.json").read_text())
        st_config = {}
        if (d / "sentence_bert_config.json").exists():
            st_config = json.loads((d / "sentence_bert_config.json").read_text())
        self.max_length = min(st_config.get("max_seq_length") or 512, config["max_position_embeddings"])
        self.heads = config["num_attention_heads"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.tokenizer = Tokenizer.from_file(str(d / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.no_padding()
        w = read_safetensors(d / "model.safetensors")
        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = f32(w["embeddings.position_embeddings.weight"])
        self.token_type = f32(w["embeddings.token_type_embeddings.weight"][0])
        self.emb_ln = (f32(w["embeddings.LayerNorm.weight"]), f32(w["embeddings.LayerNorm.bias"]))
        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            # One fused QKV matmul per layer, weights pre-transposed: fewer, larger BLAS calls.
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append(
                (
                    f32(qkv_w.T),
                    f32(qkv_b),
                    f32(w[p + "attention.output.dense.weight"].T),
                    f32(w[p + "attention.output.dense.bias"]),
                    (f32(w[p + "attention.output.LayerNorm.weight"]), f32(w[p + "attention.output.LayerNorm.bias"])),
                    f32(w[p + "intermediate.dense.weight"].T),
                    f32(w[p + "intermediate.dense.bias"]),
                    f32(w[p + "output.dense.weight"].T),
                    f32(w[p + "output.dense.bias"]),
                    (f32(w[p + "output.LayerNorm.weight"]), f32(w[p + "output.LayerNorm.bias"])),
                )
            )
        self.dimension = self.position.shape[1]

    def encode(self, texts: list[str]) -> np.ndarray:
        # One text at a time: no padding, so no attention mask is needed, and a
        # query-time call is almost always a single text anyway.
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        with _one_blas_thread():
            return np.stack([self._encode_one(t) for t in texts])

    def _encode_one(self, text: str) -> np.ndarray:
        ids = np.array(self.tokenizer.encode(text).ids, dtype=np.int64)
        n = len(ids)
        x = self.word[ids].astype(np.float32) + self.position[:n] + self.token_type
        x = _layer_norm(x, *self.emb_ln, self.eps)
        h = self.heads
        hd = x.shape[1] // h
        scale = np.float32(1.0 / np.sqrt(hd))
        for qkv_w, qkv_b, ao_w, ao_b, ao_ln, in_w, in_b, out_w, out_b, out_ln in self.layers:
            qkv = x @ qkv_w + qkv_b
            q, k, v = (qkv[:, i * h * hd : (i + 1) * h * hd].reshape(n, h, hd).transpose(1, 0, 2) for i in range(3))
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, h * hd)
            x = _layer_norm(context @ ao_w + ao_b + x, *ao_ln, self.eps)
            inter = x @ in_w + in_b
            inter = 0.5 * inter * (1.0 + _erf(inter * np.float32(1 / np.sqrt(2))))
            x = _layer_norm(inter.astype(np.float32) @ out_w + out_b + x, *out_ln, self.eps)
        pooled = x.mean(0)
        norm = np.linalg.norm(pooled)
        return (pooled / norm if norm > 0 else pooled).astype(np.float32)
