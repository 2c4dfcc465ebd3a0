"""The ONNX query encoder: same vectors as sentence-transformers, exported once, stale or missing exports named.

The export is the traced graph fused by ONNX Runtime's transformer optimizer; the fused graph must give the
same vectors (1 - cosine at most 1e-6) and its recipe (optimizer, onnxruntime version, options) is in the
fingerprint, so an export made another way is not reused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest

from search.errors import IndexMissing, IndexStale
from search.model import DEFAULT_MODEL_ID, default_model_path, load_sentence_transformer
from search.onnx_encoder import (
    MAX_FUSION_GAP,
    OPSET,
    encoder_for_index,
    ensure_export,
    export_fingerprint,
    fingerprint_path_of,
    onnx_path_for,
    read_export_fingerprint,
    weights_sha256,
)


def _varied_texts() -> list[str]:
    base = [
        "do kind anaesthetists cut painkiller use",
        "HIV",
        "compassion",
        "compasión en el cuidado 糖尿病 😀",
        "Ärzte, Pflegekräfte & Patienten: Mitgefühl?",
        "!!!???...;;;",
        "a",
        "",
        "compassion " * 400,  # longer than 256 word pieces: both must truncate the same way
        "“Smart quotes” — and dashes – and ellipses…",
        "COVID-19 mortality in ICU patients (n = 1,234; OR 0.82, 95% CI 0.70–0.96)",
        "Ελληνικά κείμενα και русский текст",
        "नमस्ते दुनिया",
        "   leading and trailing spaces   ",
        "tab\tseparated\nnew line",
    ]
    words = "nurse burnout empathy surgery outcomes patient satisfaction leadership wellbeing trial".split()
    generated = [" ".join(words[i % len(words) : i % len(words) + 1 + i % 7]) + f" {i}" for i in range(40)]
    return base + generated


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    db = tmp_path_factory.mktemp("onnx") / "kb.db"
    how = ensure_export(DEFAULT_MODEL_ID, default_model_path(), 384, onnx_path_for(db))
    return db, how


def test_onnx_vectors_match_sentence_transformers(exported):
    db, _ = exported
    texts = _varied_texts()
    assert len(texts) >= 50
    ours = encoder_for_index(db, DEFAULT_MODEL_ID, 384, default_model_path()).encode(texts)
    reference = load_sentence_transformer(default_model_path()).encode(texts, normalize_embeddings=True)
    cosines = (ours * reference).sum(axis=1)
    assert ours.dtype == np.float32 and ours.shape == (len(texts), 384)
    assert np.all(cosines >= 0.9999), cosines.min()
    # Fusion reorders float sums only: measured 1.2e-7 at most, float32 rounding.
    assert float(np.max(1 - cosines)) <= MAX_FUSION_GAP, float(np.max(1 - cosines))
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)


def test_fingerprint_records_model_weights_dimension_opset_and_recipe(exported):
    db, _ = exported
    fp = read_export_fingerprint(onnx_path_for(db))
    assert {k: v for k, v in fp.items() if k != "fused"} == export_fingerprint(
        DEFAULT_MODEL_ID, default_model_path(), 384
    )
    assert fp["weights_sha256"] == weights_sha256(default_model_path()) and len(fp["weights_sha256"]) == 64
    assert fp["opset"] == OPSET and fp["pooling"] == "mean" and fp["normalize"] is True
    graph = fp["graph"]
    assert graph["optimizer"] == "onnxruntime.transformers.optimizer"
    assert graph["onnxruntime"] == onnxruntime.__version__
    assert (graph["num_heads"], graph["hidden_size"]) == (12, 384)  # all-MiniLM-L6-v2's config.json
    assert fp["fused"] is True


def test_the_export_is_the_fused_graph(exported):
    db, _ = exported
    onnx = pytest.importorskip("onnx")
    ops = {node.op_type for node in onnx.load(str(onnx_path_for(db))).graph.node}
    assert {"Attention", "EmbedLayerNormalization", "SkipLayerNormalization", "BiasGelu"} <= ops, ops
    assert "Softmax" not in ops and "Erf" not in ops
    session = encoder_for_index(db, DEFAULT_MODEL_ID, 384, default_model_path()).session
    assert {i.name: i.type for i in session.get_inputs()}["input_ids"] == "tensor(int32)"


def test_an_export_made_with_another_recipe_is_not_kept(exported, tmp_path):
    db, _ = exported
    other = tmp_path / "kb.db"
    shutil.copyfile(onnx_path_for(db), onnx_path_for(other))
    fp = read_export_fingerprint(onnx_path_for(db))
    older = {**fp, "graph": {**fp["graph"], "onnxruntime": "1.16.0"}}
    fingerprint_path_of(onnx_path_for(other)).write_text(json.dumps(older))
    assert ensure_export(DEFAULT_MODEL_ID, default_model_path(), 384, onnx_path_for(other)) == "cached"
    assert read_export_fingerprint(onnx_path_for(other))["graph"]["onnxruntime"] == onnxruntime.__version__


def test_a_matching_export_is_reused_not_redone(exported, tmp_path):
    db, _ = exported
    before = onnx_path_for(db).stat().st_mtime_ns
    assert ensure_export(DEFAULT_MODEL_ID, default_model_path(), 384, onnx_path_for(db)) == "kept"
    assert onnx_path_for(db).stat().st_mtime_ns == before
    other = tmp_path / "next.db"
    assert ensure_export(DEFAULT_MODEL_ID, default_model_path(), 384, onnx_path_for(other), previous=db) == "reused"
    assert onnx_path_for(other).read_bytes()[:64] == onnx_path_for(db).read_bytes()[:64]


def test_missing_or_stale_export_names_kb_build(exported, tmp_path):
    db, _ = exported
    with pytest.raises(IndexMissing, match="kb build"):
        encoder_for_index(tmp_path / "none.db", DEFAULT_MODEL_ID, 384, default_model_path())
    with pytest.raises(IndexStale, match="kb build"):
        encoder_for_index(db, "another-model", 384, default_model_path())
    stale = tmp_path / "stale.db"
    ensure_export(DEFAULT_MODEL_ID, default_model_path(), 384, onnx_path_for(stale))
    fp = json.loads(fingerprint_path_of(onnx_path_for(stale)).read_text())
    fingerprint_path_of(onnx_path_for(stale)).write_text(json.dumps({**fp, "dimension": 768}))
    with pytest.raises(IndexStale, match="kb build"):
        encoder_for_index(stale, DEFAULT_MODEL_ID, 384, default_model_path())


def test_an_export_onnxruntime_cannot_load_names_kb_build(exported, tmp_path):
    db, _ = exported
    broken = tmp_path / "broken.db"
    onnx_path_for(broken).write_bytes(onnx_path_for(db).read_bytes()[:4096])  # a cut-off file
    fingerprint_path_of(onnx_path_for(broken)).write_text(fingerprint_path_of(onnx_path_for(db)).read_text())
    with pytest.raises(IndexStale, match="cannot be loaded.*kb build"):
        encoder_for_index(broken, DEFAULT_MODEL_ID, 384, default_model_path())


def test_query_path_imports_neither_torch_nor_transformers(exported):
    db, _ = exported
    code = (
        "import sys\n"
        "from search.model import default_model_path\n"
        "from search.onnx_encoder import encoder_for_index\n"
        f"v = encoder_for_index({str(db)!r}, {DEFAULT_MODEL_ID!r}, 384, default_model_path()).encode(['nurses'])\n"
        "assert v.shape == (1, 384)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr
