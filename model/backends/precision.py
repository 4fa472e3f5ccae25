"""Where and in what precision the network runs: bf16 autocast where the processor computes bf16
natively, fp32 elsewhere, and the GPU when there is one.

Precision is a run-time choice (``--precision``, `govtag.backends.RunOptions`), never part of a model:
autocast computes matrix products in bfloat16 (or float16 on a GPU without bf16) while the weights stay
float32, so the same model directory runs everywhere. On a processor without native bf16 instructions
(AVX-512 BF16 or AMX on x86, BF16 on ARM) bf16 would be emulated and slower than fp32, so ``auto``
keeps fp32 there. torch is imported only by the functions that need it, so checking a ``--precision``
value costs the TF-IDF baseline nothing.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from govtag.errors import GovtagError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "bf16", "fp32")
# torch.cpu.get_capabilities() keys meaning bf16 arithmetic in hardware: x86 (AVX-512 BF16, AMX) and ARM
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16", "sve_bf16")


def check_precision(precision: str, where: str = "--precision") -> str:
    """Return ``precision`` when it is one of `PRECISIONS`, else raise a one-sentence `GovtagError`.

    Example:
        >>> check_precision("bf16")
        'bf16'
    """
    if precision not in PRECISIONS:
        raise GovtagError(f"{where}: unknown precision {precision!r}; expected auto (bf16 where the processor "
                          "computes it natively, else fp32), bf16 or fp32")
    return precision


def native_cpu_bf16() -> bool:
    """True when this processor has bf16 arithmetic instructions (`NATIVE_BF16_FLAGS`).

    Uses ``torch.cpu.get_capabilities()``, torch's public report of the CPU features it detected at
    run time (the same cpuinfo query its kernels dispatch on).

    Example:
        >>> isinstance(native_cpu_bf16(), bool)   # True on e.g. Xeon Sapphire Rapids or AMD Zen 4
        True
    """
    import torch

    caps = torch.cpu.get_capabilities()
    return any(bool(caps.get(flag, False)) for flag in NATIVE_BF16_FLAGS)


def run_device() -> torch.device:
    """The device the network runs on: the first GPU when torch sees one, else the CPU.

    Example:
        >>> run_device().type in ("cpu", "cuda")
        True
    """
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device``; None means plain fp32.

    ``auto``: bf16 on a GPU that has it (else fp16), bf16 on a CPU with native bf16, else fp32.
    ``bf16`` forces bf16 (emulated, and slow, where the hardware lacks it); ``fp32`` turns autocast off.

    Example:
        >>> import torch
        >>> autocast_dtype("fp32", torch.device("cpu")) is None
        True
    """
    import torch

    check_precision(precision)
    if precision == "fp32":
        return None
    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported(including_emulation=False)
        return torch.bfloat16 if precision == "bf16" or native else torch.float16
    return torch.bfloat16 if precision == "bf16" or native_cpu_bf16() else None


def autocast(device: torch.device, dtype: torch.dtype | None):
    """A context in which the network computes in ``dtype`` (nothing changes when it is None).

    Example:
        >>> import torch
        >>> with autocast(torch.device("cpu"), torch.bfloat16):
        ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
        torch.bfloat16
    """
    import torch

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def trainer_precision(precision: str) -> dict:
    """``TrainingArguments`` keywords for ``precision``: ``bf16``/``fp16`` mixed precision and ``use_cpu``.

    The Trainer runs CPU autocast when given ``bf16=True`` together with ``use_cpu=True`` (its docs:
    "Trainer supports bf16 mixed precision training on CPU"); the optimizer keeps fp32 weights.

    Example:
        >>> trainer_precision("fp32")["bf16"]
        False
    """
    import torch

    device = run_device()
    dtype = autocast_dtype(precision, device)
    return {"bf16": dtype == torch.bfloat16, "fp16": dtype == torch.float16, "use_cpu": device.type == "cpu"}


def describe(precision: str) -> str:
    """One line for logs: what ``precision`` means on this machine.

    Example:
        >>> describe("fp32") in ("fp32 on cpu", "fp32 on cuda")
        True
    """
    import torch

    device = run_device()
    dtype = autocast_dtype(precision, device)
    name = {None: "fp32", torch.bfloat16: "bf16 autocast", torch.float16: "fp16 autocast"}[dtype]
    return f"{name} on {device.type}"
