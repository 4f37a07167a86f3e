"""Process-level helpers of the encoders: CPU budget and torch threads, offline mode, quiet model loading, and
the device checks (CUDA requested but absent fails early with a clear :class:`~yanreform.errors.ModelError`).

Nothing here imports torch at module level; :func:`check_device` imports it only for a CUDA device on a
machine that has a GPU driver.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError, ModelError

# ------------------------------------------------------------------------------------------ threads


def _cpu_budget() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota when there is one."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def _configure_torch_threads(torch: Any) -> None:
    """Cap torch's intra-op threads at the CPUs actually available (containers often report the host's cores,
    and oversubscribed threads make every matmul slower). Called only when yanreform itself first imported
    torch; an explicit OMP/MKL setting is left alone too."""
    if any(os.environ.get(v) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")):
        return
    budget = _cpu_budget()
    if torch.get_num_threads() > budget:
        torch.set_num_threads(budget)


def _is_offline() -> bool:
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "YANREFORM_OFFLINE")
    )


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" progress bar (our own bar covers encoding)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# ------------------------------------------------------------------------------------------ devices

#: texts per forward pass on a GPU when the caller gives none (e5-small in fp16 fills an H100 poorly below)
GPU_BATCH_SIZE = 256
CPU_BATCH_SIZE = 32
#: device files of a GPU driver on Linux (NVIDIA; ROCm builds of torch use "cuda" too, through /dev/kfd)
_DRIVER_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version", "/dev/kfd")


def resolve_device(device: str | None) -> str | None:
    """``device``, else ``YANREFORM_DEVICE`` (blank: unset), else None (sentence-transformers chooses).

    Raises:
        InputError: the value is not a string such as ``"cpu"``, ``"cuda"`` or ``"cuda:1"``.
    """
    source = "device"
    if device is None:
        device = os.environ.get("YANREFORM_DEVICE", "").strip() or None
        source = "YANREFORM_DEVICE"
    if device is None:
        return None
    if not isinstance(device, str) or not device.strip():
        raise InputError(f"{source} must be a device name such as 'cpu' or 'cuda', not {device!r}")
    return device.strip().lower()


def is_cuda(device: str | None) -> bool:
    """True for ``"cuda"`` and ``"cuda:N"``."""
    return device is not None and device.split(":", 1)[0] == "cuda"


def check_device(device: str | None) -> None:
    """Fail early, with a clear message, when ``device`` asks for CUDA that this machine cannot give.

    On Linux a machine without a GPU driver is recognised without importing torch; otherwise torch is
    imported and asked (a CPU-only torch build, no visible GPU, or an index past the last GPU).

    Raises:
        ModelError: CUDA was requested and is not usable; InputError: a malformed ``cuda:N``.
    """
    if not is_cuda(device):
        return
    assert device is not None
    index = 0
    if ":" in device:
        try:
            index = int(device.split(":", 1)[1])
        except ValueError:
            raise InputError(f"device {device!r}: expected 'cuda' or 'cuda:N' with N a GPU number") from None
    hint = "use device='cpu' (--device cpu), or run on a machine with an NVIDIA GPU and a CUDA build of torch"
    if sys.platform.startswith("linux") and not any(os.path.exists(f) for f in _DRIVER_FILES):
        raise ModelError(
            f"device {device!r}: CUDA was requested but this machine has no GPU driver "
            f"(no {_DRIVER_FILES[0]}); {hint}"
        )
    try:
        import torch
    except ImportError as exc:
        raise ModelError(f"device {device!r}: CUDA was requested but torch is not installed ({exc})") from exc
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise ModelError(
            f"device {device!r}: CUDA was requested but torch {torch.__version__} ({build}) sees no usable "
            f"GPU; {hint}"
        )
    n = torch.cuda.device_count()
    if index >= n:
        raise ModelError(f"device {device!r}: this machine has {n} GPU(s) (cuda:0 to cuda:{n - 1})")


# ------------------------------------------------------------------------------------------ backends

#: the encoder backends: sentence-transformers on torch, and the int8 ONNX Runtime copy of the default model
BACKENDS = ("torch", "onnx-int8")
#: the backend of the default model when neither ``backend=`` nor ``YANREFORM_BACKEND`` says
DEFAULT_BACKEND = "torch"


def resolve_backend(backend: str | None, *, default_model: bool) -> str:
    """``backend``, else ``YANREFORM_BACKEND`` (for the default model only; blank: unset), else
    :data:`DEFAULT_BACKEND` for the default model and ``"torch"`` for any other.

    Raises:
        InputError: not one of :data:`BACKENDS` (the message names where the value came from).
    """
    source = "backend"
    if backend is None and default_model:
        backend = os.environ.get("YANREFORM_BACKEND", "").strip() or None
        source = "YANREFORM_BACKEND"
    if backend is None:
        return DEFAULT_BACKEND if default_model else "torch"
    if backend not in BACKENDS:
        raise InputError(f"{source}={backend!r}: expected one of {', '.join(BACKENDS)}")
    return backend


def resolve_settings(backend: str | None = None, device: str | None = None) -> tuple[str, str | None]:
    """The default model's (backend, device), each from the argument, else its environment variable, else
    the default; checked together, as ``Encoder()`` would at construction.

    Raises:
        InputError: an unknown value. ModelError: CUDA requested but absent, or ``onnx-int8`` on a GPU.
    """
    backend = resolve_backend(backend, default_model=True)
    device = resolve_device(device)
    check_backend_device(backend, device)
    return backend, device


def check_backend_device(backend: str, device: str | None) -> None:
    """Raises ModelError when ``device`` is CUDA that is absent, or when ``backend`` cannot run there."""
    if backend == "onnx-int8" and device not in (None, "cpu"):
        raise ModelError(
            f"backend 'onnx-int8' runs on the CPU only, not on device {device!r}; "
            "use backend 'torch' on a GPU (fp16 there)"
        )
    check_device(device)
