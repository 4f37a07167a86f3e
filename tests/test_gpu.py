"""The GPU path of the encoder: ``Encoder(device="cuda")`` runs the default model in fp16 with large batches.

Without CUDA (the fast tier, CI): asking for it fails at construction with a clear ModelError, recognised
without importing torch when the machine has no GPU driver; malformed devices are InputErrors; the CLI says so
in one line. With CUDA (slow tier, skipped cleanly elsewhere): fp16 weights, batches of 256, vectors within
cosine 0.999 of CPU fp32, the same tags, and a cache that keeps fp16 vectors apart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from yanreform.embed import Encoder, HashingModel, resolve_settings
from yanreform.embed._runtime import _DRIVER_FILES
from yanreform.errors import InputError, ModelError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_encoder_variables(monkeypatch):
    """Each test starts with YANREFORM_BACKEND / YANREFORM_DEVICE blank (= unset), restored afterwards."""
    for var in ("YANREFORM_BACKEND", "YANREFORM_DEVICE"):
        monkeypatch.setenv(var, "")


HAS_DRIVER = any(os.path.exists(f) for f in _DRIVER_FILES)


def _cuda_available() -> bool:
    if not HAS_DRIVER:
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


needs_cuda = pytest.mark.skipif(not _cuda_available(), reason="no CUDA GPU on this machine")
no_driver = pytest.mark.skipif(HAS_DRIVER, reason="this machine has a GPU driver: the no-CUDA error differs")


@no_driver
def test_missing_cuda_is_a_clear_model_error_without_torch(monkeypatch):
    import sys

    monkeypatch.setenv("YANREFORM_DEVICE", "")
    had_torch = "torch" in sys.modules
    for device in ("cuda", "cuda:1", "CUDA"):
        with pytest.raises(ModelError) as exc:
            Encoder(device=device)
        msg = str(exc.value)
        assert "CUDA was requested" in msg and "no GPU driver" in msg and "device='cpu'" in msg
    assert ("torch" in sys.modules) == had_torch  # found out without loading torch


@no_driver
def test_device_from_environment(monkeypatch):
    from yanreform import _defaults

    monkeypatch.setenv("YANREFORM_DEVICE", "cuda")
    _defaults.reset()
    try:
        with pytest.raises(ModelError, match="CUDA was requested"):
            _defaults.default_encoder(cache=False)
        with pytest.raises(ModelError, match="CUDA was requested"):
            resolve_settings()
        assert Encoder(HashingModel()).device is None  # the variable is for models the encoder loads
    finally:
        _defaults.reset()
    monkeypatch.setenv("YANREFORM_DEVICE", "cpu")
    assert Encoder().device == "cpu" and resolve_settings() == ("torch", "cpu")


def test_malformed_devices_are_input_errors(monkeypatch):
    monkeypatch.setenv("YANREFORM_DEVICE", "")
    with pytest.raises(InputError, match="'cuda' or 'cuda:N'"):
        Encoder(device="cuda:first")
    with pytest.raises(InputError, match="device must be a device name"):
        Encoder(device="  ")
    with pytest.raises(ModelError, match="model object"):
        Encoder(HashingModel(), device="cpu")


def test_batch_size_and_precision_follow_the_device(monkeypatch):
    monkeypatch.setenv("YANREFORM_DEVICE", "")
    cpu = Encoder(device="cpu")
    assert (cpu.batch_size, cpu.precision, cpu.cache_id) == (32, "fp32", cpu.model_id)
    assert Encoder(device="cpu", batch_size=7).batch_size == 7
    with pytest.raises(InputError):
        Encoder(device="cpu", batch_size=0)


@no_driver
def test_cli_device_cuda_without_cuda_is_one_error_line(tmp_path, monkeypatch, capsys):
    from yanreform.apps.cli import main

    monkeypatch.setenv("YANREFORM_DEVICE", "")
    monkeypatch.setenv("YANREFORM_BACKEND", "")
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "建设执法办案管理中心。"}\n', encoding="utf-8")
    assert main(["tag", str(src), "-o", str(tmp_path / "o.jsonl"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("yanreform: error: device 'cuda': CUDA was requested")
    assert main(["index", "build", "--bundled", "-o", str(tmp_path / "ix"), "--device", "cuda"]) == 2
    assert "CUDA was requested" in capsys.readouterr().err and not (tmp_path / "ix").exists()


# ------------------------------------------------------------------------------------------ with CUDA


def _realdev(n: int) -> list[str]:
    rows = (REPO / "corpus" / "realdev.jsonl").read_text("utf-8").splitlines()
    return [json.loads(x)["text"] for x in rows if x][:n]


@pytest.mark.slow
@needs_cuda
def test_cuda_encoder_runs_fp16_with_large_batches(tmp_path):
    import torch

    gpu = Encoder(device="cuda", cache=tmp_path / "c.sqlite3")
    assert (gpu.batch_size, gpu.precision) == (256, "fp16")
    assert gpu.cache_id.endswith("#fp16") and gpu.model_id == Encoder().model_id
    texts = [*_realdev(64), "建设执法办案管理中心，推进检察机关公益诉讼。" * 60]
    v16 = gpu.encode(texts)
    assert next(gpu.model.parameters()).dtype == torch.float16
    assert gpu.model.device.type == "cuda"
    v32 = Encoder(device="cpu").encode(texts)
    assert v16.dtype == np.float32 and v16.shape == v32.shape
    np.testing.assert_allclose(np.linalg.norm(v16, axis=1), 1.0, atol=1e-4)
    cos = np.sum(v16 * v32, axis=1)
    assert cos.min() > 0.999, cos
    # the cache holds the fp16 vectors apart: a CPU encoder on the same cache does not get them
    cpu = Encoder(device="cpu", cache=tmp_path / "c.sqlite3")
    cpu.encode(texts[:3])
    assert cpu.n_cached == 0 and cpu.n_encoded == 3


@pytest.mark.slow
@needs_cuda
def test_cuda_tags_match_cpu():
    from yanreform import Tagger

    texts = _realdev(60)
    a = Tagger.default(encoder=Encoder(device="cpu")).tag_many(texts)
    b = Tagger.default(encoder=Encoder(device="cuda")).tag_many(texts)
    assert [t.codes for t in a] == [t.codes for t in b]


@pytest.mark.slow
@needs_cuda
def test_cuda_index_past_the_last_gpu_is_a_model_error():
    import torch

    n = torch.cuda.device_count()
    with pytest.raises(ModelError, match=f"has {n} GPU"):
        Encoder(device=f"cuda:{n}")
