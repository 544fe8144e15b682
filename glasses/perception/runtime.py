"""One onnxruntime session factory for every model in the project.

Threads are configurable (default 2, suited to a 2-4 core board), idle spinning is off
(spinning threads steal the core the camera and audio need), and execution providers are
chosen automatically: TensorRT, then CUDA, then CPU, among those this onnxruntime build
offers. The provider a session actually got is logged and kept on the session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol, Sequence

import numpy as np

from ..errors import ModelError

log = logging.getLogger(__name__)

PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


class InferenceSession(Protocol):
    """What a perception stage needs from a model: named inputs in, outputs out."""

    input_name: str
    provider: str

    def __call__(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class RuntimeOptions:
    threads: int = 2
    providers: Sequence[str] | None = None  # None: choose automatically
    optimization: str = "all"  # "basic" | "extended" | "all"

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.optimization not in ("basic", "extended", "all"):
            raise ValueError(f"optimization must be basic, extended or all, got {self.optimization!r}")


def choose_providers(available: Sequence[str], wanted: Sequence[str] | None = None) -> list[str]:
    """Providers to ask for, best first: the wanted ones (or the preferred list) that exist."""
    order = list(wanted) if wanted else list(PREFERRED_PROVIDERS)
    chosen = [p for p in order if p in available]
    if "CPUExecutionProvider" not in chosen and "CPUExecutionProvider" in available:
        chosen.append("CPUExecutionProvider")
    return chosen


class OrtSession:
    """An onnxruntime session behind the one-method interface ``session(feeds) -> outputs``."""

    def __init__(self, path: Path, options: RuntimeOptions = RuntimeOptions()):
        import onnxruntime as ort

        self.path = Path(path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = options.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = {
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[options.optimization]
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
        so.log_severity_level = 3
        wanted = choose_providers(ort.get_available_providers(), options.providers)
        try:
            self._session = ort.InferenceSession(str(self.path), so, providers=wanted)
        except Exception as e:  # onnxruntime raises its own exception types
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"{self.path.name} does not load: {first}") from e
        got = self._session.get_providers()
        self.provider = got[0]
        if wanted and got[0] != wanted[0]:
            log.warning("%s: asked for %s, got %s", self.path.name, wanted[0], got[0])
        log.info("%s: execution provider %s, %d thread(s)", self.path.name, self.provider, options.threads)
        inputs = self._session.get_inputs()
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)
        self.output_names = [o.name for o in self._session.get_outputs()]

    def __call__(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return self._session.run(None, dict(feeds))

    def __enter__(self) -> "OrtSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._session = None  # releases native memory once the last reference goes
