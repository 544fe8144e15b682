"""Shared fixtures: the repo's real images and the real detector models (loaded once)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "models" / "images" / "bench"


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    return BENCH


@pytest.fixture(scope="session")
def int8_detector():
    from glasses.perception.detector import load_detector
    from glasses.perception.runtime import RuntimeOptions

    return load_detector("int8", RuntimeOptions(threads=2))


@pytest.fixture(scope="session")
def fp32_detector():
    from glasses.perception.detector import load_detector
    from glasses.perception.runtime import RuntimeOptions

    return load_detector("fp32", RuntimeOptions(threads=2))
