"""The ONNX Runtime int8 backend (yanreform.embed.onnx) and the encoder's backend selection.

Fast tier: the runtime half (tokenise, batch, pool over the mask, normalise) on a tiny real ONNX graph built
here with onnx.helper and a tiny real tokenizer; backend/env resolution; the cache never mixing backends; the
manifest checks of a built folder; the CLI options. Slow tier: the real int8 copy of the default model (built
once into the session's YANREFORM_HOME, about a minute), its agreement with torch fp32, and that encoding with
it imports no torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yanreform.embed import DEFAULT_MODEL_ID, EmbeddingCache, Encoder, HashingModel, resolve_settings
from yanreform.embed import onnx as yo
from yanreform.embed.cache import text_hash
from yanreform.errors import InputError, ModelError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_encoder_variables(monkeypatch):
    """Each test starts with YANREFORM_BACKEND / YANREFORM_DEVICE blank (= unset), restored afterwards."""
    for var in ("YANREFORM_BACKEND", "YANREFORM_DEVICE"):
        monkeypatch.setenv(var, "")


VOCAB = ["<s>", "<pad>", "</s>", "<unk>", "a", "b", "c", "d", "e", "query:"]
DIM = 6


def _tiny_folder(root: Path, *, max_seq_length: int = 512) -> tuple[Path, np.ndarray]:
    """A folder laid out like a built int8 copy: a one-op graph (hidden = embedding rows x mask) and a
    whitespace word-level tokenizer with <s> ... </s> around every text."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    rng = np.random.default_rng(0)
    table = rng.standard_normal((len(VOCAB), DIM)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["rows"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["rows", "mask3"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", DIM])],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder = root / "tiny-onnx"
    folder.mkdir()
    onnx.save(model, str(folder / yo.GRAPH))
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.save(str(folder / "tokenizer.json"))
    manifest = {"model_id": "tiny", "dim": DIM, "max_seq_length": max_seq_length, "pad_token_id": 1}
    (folder / yo.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder, table


def _expected(table: np.ndarray, words: list[str]) -> np.ndarray:
    ids = [0] + [VOCAB.index(w) for w in words] + [2]
    v = table[ids].mean(axis=0)
    return v / np.linalg.norm(v)


# ------------------------------------------------------------------------------------------ runtime


def test_onnx_model_mean_pools_over_the_mask_and_normalises(tmp_path):
    folder, table = _tiny_folder(tmp_path)
    m = yo.OnnxSentenceModel(folder, threads=1)
    texts = ["a b", "a b c d e", "e"]
    batch = m.encode(texts, batch_size=8, normalize_embeddings=True)
    assert batch.shape == (3, DIM) and batch.dtype == np.float32
    for row, t in zip(batch, texts, strict=True):
        np.testing.assert_allclose(row, _expected(table, t.split()), rtol=1e-5, atol=1e-6)
    # padding in a batch changes nothing: one by one gives the same rows
    singles = np.stack([m.encode(t, normalize_embeddings=True) for t in texts])
    np.testing.assert_allclose(batch, singles, rtol=1e-5, atol=1e-6)
    # without normalisation: the plain mean
    raw = m.encode(["a b"], normalize_embeddings=False)[0]
    np.testing.assert_allclose(raw, table[[0, 4, 5, 2]].mean(axis=0), rtol=1e-5, atol=1e-6)


def test_onnx_model_prompt_and_truncation(tmp_path):
    folder, table = _tiny_folder(tmp_path, max_seq_length=4)
    m = yo.OnnxSentenceModel(folder, threads=1)
    ids, mask = m.token_batch(["a b c d e", "a"])
    assert ids.shape == (2, 4) and ids.dtype == np.int64
    assert ids[0].tolist() == [0, 4, 5, 2]  # truncated to the window, </s> kept
    assert ids[1].tolist() == [0, 4, 2, 1] and mask[1].tolist() == [1, 1, 1, 0]  # padded with <pad>
    v = m.encode("b", prompt="a ", normalize_embeddings=True)
    np.testing.assert_allclose(v, _expected(table, ["a", "b"]), rtol=1e-5, atol=1e-6)
    # the tokenizer slice the encoder windows with
    assert m.tokenizer("a b", add_special_tokens=False)["input_ids"] == [4, 5]
    assert m.tokenizer("a b")["input_ids"] == [0, 4, 5, 2]
    assert m.tokenizer.model_max_length == 4 and m.get_sentence_embedding_dimension() == DIM


def test_onnx_model_unloadable_folder_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="could not load the ONNX model"):
        yo.OnnxSentenceModel(tmp_path)


# ------------------------------------------------------------------------------------------ selection


def test_backend_leaves_model_id_and_separates_cache_id():
    fp32, int8 = Encoder(), Encoder(backend="onnx-int8")
    assert fp32.backend == "torch" and int8.backend == "onnx-int8"
    assert fp32.model_id == int8.model_id == DEFAULT_MODEL_ID  # the embedding space: taggers check it
    assert fp32.cache_id == DEFAULT_MODEL_ID  # unchanged: existing caches stay valid
    assert int8.cache_id == f"{DEFAULT_MODEL_ID}#onnx-int8"
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    assert "backend='onnx-int8'" in repr(int8)


def test_cache_never_serves_one_backends_vectors_to_the_other(tmp_path):
    """Vectors stored by each backend come back only to that backend (no model is loaded: all hits)."""
    path = tmp_path / "emb.sqlite3"
    fp32, int8 = Encoder(cache=path), Encoder(backend="onnx-int8", cache=path)
    text = "建设执法办案管理中心。"
    va = np.zeros(384, np.float32)
    va[0] = 1.0
    vb = np.zeros(384, np.float32)
    vb[1] = 1.0
    store = EmbeddingCache(path)
    store.put_many(fp32.cache_id, [(EmbeddingCache.key(fp32.cache_id, fp32.prompt, text_hash(text)), va)])
    store.put_many(int8.cache_id, [(EmbeddingCache.key(int8.cache_id, int8.prompt, text_hash(text)), vb)])
    np.testing.assert_array_equal(fp32.encode(text), va)
    np.testing.assert_array_equal(int8.encode(text), vb)
    assert (fp32.n_cached, int8.n_cached, fp32.n_encoded, int8.n_encoded) == (1, 1, 0, 0)
    assert store.count(fp32.cache_id) == 1 and store.count(int8.cache_id) == 1


def test_backend_from_environment(monkeypatch):
    monkeypatch.setenv("YANREFORM_BACKEND", "onnx-int8")
    assert Encoder().backend == "onnx-int8"
    assert Encoder(backend="torch").backend == "torch"  # the argument wins
    assert Encoder(HashingModel()).backend == "torch"  # the variable is about the default model only
    assert resolve_settings() == ("onnx-int8", None)
    monkeypatch.setenv("YANREFORM_BACKEND", "tensorrt")
    with pytest.raises(InputError, match=r"YANREFORM_BACKEND='tensorrt'.*torch, onnx-int8"):
        Encoder()
    with pytest.raises(InputError, match=r"backend='fp8'"):
        Encoder(backend="fp8")


def test_default_encoder_follows_the_environment(monkeypatch):
    from yanreform import _defaults

    _defaults.reset()
    try:
        monkeypatch.setenv("YANREFORM_BACKEND", "")
        torch_enc = _defaults.default_encoder(cache=False)
        monkeypatch.setenv("YANREFORM_BACKEND", "onnx-int8")
        int8_enc = _defaults.default_encoder(cache=False)
        assert torch_enc.backend == "torch" and int8_enc.backend == "onnx-int8"
        assert int8_enc is _defaults.default_encoder(cache=False)  # shared per setting
    finally:
        _defaults.reset()


def test_onnx_backend_is_for_the_default_model_on_the_cpu():
    with pytest.raises(ModelError, match="default model only"):
        Encoder(HashingModel(), backend="onnx-int8")
    with pytest.raises(ModelError, match="CPU only"):
        Encoder(backend="onnx-int8", device="cuda")
    assert Encoder(backend="onnx-int8", device="cpu").device == "cpu"


# ------------------------------------------------------------------------------------------ the built folder


def _fake_build(models: Path) -> tuple[Path, Path, dict]:
    """A torch folder with a manifest and an int8 folder whose manifest matches it (files are stand-ins:
    only the checks of the manifest are under test)."""
    fp32 = models / "fp32"
    fp32.mkdir(parents=True)
    (fp32 / "yanreform-manifest.json").write_text(
        json.dumps({"model_id": "m", "format_version": 1, "source": {"sha256": "abc", "size": 3}}), "utf-8"
    )
    source = yo._source_of(fp32)
    target = models / yo.INT8_NAME
    target.mkdir()
    (target / yo.GRAPH).write_bytes(b"x" * 10)
    man = {"format_version": yo.INT8_FORMAT_VERSION, "source": source, "files": {yo.GRAPH: 10}}
    (target / yo.MANIFEST).write_text(json.dumps(man), "utf-8")
    return fp32, target, source


def test_int8_folder_validity_checks(tmp_path):
    _fp32, target, source = _fake_build(tmp_path / "models")
    assert yo.int8_folder_is_valid(target, source)
    # a build from another torch folder (other weights) is stale
    assert not yo.int8_folder_is_valid(target, {**source, "sha256": "other"})
    # a truncated graph (a partial copy) is not valid
    (target / yo.GRAPH).write_bytes(b"x" * 9)
    assert not yo.int8_folder_is_valid(target, source)
    (target / yo.GRAPH).write_bytes(b"x" * 10)
    # an older recipe is rebuilt
    man = json.loads((target / yo.MANIFEST).read_text("utf-8"))
    (target / yo.MANIFEST).write_text(json.dumps({**man, "format_version": 0}), "utf-8")
    assert not yo.int8_folder_is_valid(target, source)
    (target / yo.MANIFEST).unlink()
    assert not yo.int8_folder_is_valid(target, source)


def test_ensure_int8_model_reuses_a_valid_build_without_building(tmp_path):
    fp32, target, _ = _fake_build(tmp_path / "models")
    before = (target / yo.GRAPH).stat().st_mtime_ns
    assert yo.ensure_int8_model(tmp_path / "models", fp32) == target
    assert (target / yo.GRAPH).stat().st_mtime_ns == before
    assert [p.name for p in (tmp_path / "models").iterdir() if p.name.startswith(".")] == []


# ------------------------------------------------------------------------------------------ CLI


def test_cli_backend_options_are_checked_before_any_work(tmp_path, monkeypatch, capsys):
    from yanreform.apps.cli import main

    for var in ("YANREFORM_BACKEND", "YANREFORM_DEVICE"):
        monkeypatch.setenv(var, "")  # blank = unset; restored after the test, whatever the CLI sets
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "建设执法办案管理中心。"}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["tag", str(src), "--backend", "fp8"])
    assert exc.value.code == 2 and "invalid choice: 'fp8'" in capsys.readouterr().err
    out = tmp_path / "out.jsonl"
    assert main(["tag", str(src), "-o", str(out), "--backend", "onnx-int8", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "onnx-int8' runs on the CPU only" in err and "Traceback" not in err and not out.exists()
    monkeypatch.setenv("YANREFORM_BACKEND", "x")
    assert main(["index", "build", "--bundled", "-o", str(tmp_path / "ix")]) == 2
    assert "YANREFORM_BACKEND='x'" in capsys.readouterr().err and not (tmp_path / "ix").exists()
    # the option sets the variable, so the shared default encoder and worker processes follow it
    monkeypatch.setenv("YANREFORM_BACKEND", "")
    assert main(["tag", str(src), "--backend", "onnx-int8", "--device", "cuda:x"]) == 2
    assert os.environ["YANREFORM_BACKEND"] == "onnx-int8"


# ------------------------------------------------------------------------------------------ the real copy


def _realdev(n: int) -> list[str]:
    rows = (REPO / "corpus" / "realdev.jsonl").read_text("utf-8").splitlines()
    return [json.loads(x)["text"] for x in rows if x][:n]


@pytest.mark.slow
def test_int8_copy_is_built_once_and_agrees_with_torch_fp32():
    from yanreform._resources import cache_dir

    int8 = Encoder(backend="onnx-int8")
    long = "建设执法办案管理中心，推进检察机关公益诉讼。" * 60  # windowed
    texts = [*_realdev(24), "短句", long]
    v8 = int8.encode(texts)
    folder = int8.model.folder
    assert folder == cache_dir() / "models" / yo.INT8_NAME
    man = json.loads((folder / yo.MANIFEST).read_text("utf-8"))
    assert man["dim"] == 384 and (folder / yo.GRAPH).stat().st_size == man["files"][yo.GRAPH]
    assert man["files"][yo.GRAPH] < 150_000_000  # int8: about a quarter of the 470 MB fp32 weights
    assert not [p for p in folder.parent.iterdir() if ".tmp-" in p.name]
    assert yo.ensure_int8_model(folder.parent, Encoder().path) == folder  # valid: reused
    v32 = Encoder().encode(texts)
    cos = np.sum(v8 * v32, axis=1)
    assert v8.shape == (26, 384) and v8.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v8, axis=1), 1.0, atol=1e-5)
    assert cos.mean() > 0.993 and cos.min() > 0.985, cos


@pytest.mark.slow
def test_int8_encoding_imports_no_torch():
    Encoder(backend="onnx-int8").model  # noqa: B018  (built by now or here)
    code = (
        "import sys; from yanreform.embed import Encoder; "
        "v = Encoder(backend='onnx-int8').encode(['建设执法办案管理中心。']); "
        "print(v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["(1,", "384)", "False", "False"]


@pytest.mark.slow
def test_int8_tags_match_torch_on_real_passages():
    from yanreform import Tagger

    texts = _realdev(40)
    a = Tagger.default(encoder=Encoder()).tag_many(texts)
    b = Tagger.default(encoder=Encoder(backend="onnx-int8")).tag_many(texts)
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x.codes != y.codes]
    assert len(differ) <= 2, differ  # measured: see docs/encoders.md


def test_runtime_threads_follow_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert yo._default_threads() == 1  # a worker process's share of the cores
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    from yanreform.embed._runtime import _cpu_budget

    assert yo._default_threads() == _cpu_budget()


def test_a_run_resumes_only_with_the_same_encoder_settings(tmp_path):
    """The backend changes embeddings (so scores and tags): it is part of a tag run's identity for --resume;
    the default (torch on the CPU) and the fast head (no encoder) add nothing: older journals still match."""
    from yanreform.apps.cli import build_parser, cmd_tag
    from yanreform.apps.cli._common import apply_encoder_options
    from yanreform.batch import TagOptions

    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": "a", "text": "建设执法办案管理中心。"}\n', encoding="utf-8")
    options = TagOptions(keep=None, exclude=("text", "id"))

    def identity(*extra: str) -> dict:
        os.environ["YANREFORM_BACKEND"] = ""  # each run starts from the defaults (restored by the fixture)
        args = build_parser().parse_args(["tag", str(inp), "-o", str(tmp_path / "o.jsonl"), *extra])
        apply_encoder_options(args)
        return cmd_tag._fingerprint(args, options)

    default = identity()
    assert "backend" not in default and "device" not in default
    assert identity("--backend", "torch") == default
    int8 = identity("--backend", "onnx-int8")
    assert int8["backend"] == "onnx-int8" and int8 != default
    assert identity("--fast", "--backend", "onnx-int8") == identity("--fast")
