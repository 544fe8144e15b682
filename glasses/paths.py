"""Where the project's data folders are (models/, calibration/, overlays/).

The package is meant to be installed from a checkout (``pip install -e .``), so the
data folders sit beside the ``glasses/`` package. ``GLASSES_ROOT`` overrides that,
for a checkout kept elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import GlassesError


def project_root() -> Path:
    env = os.environ.get("GLASSES_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[1]
    if not (root / "models" / "manifest.toml").is_file():
        where = f"GLASSES_ROOT={env}" if env else str(root)
        raise GlassesError(
            f"cannot find models/manifest.toml under {where}; install from a checkout "
            "(pip install -e .) or set GLASSES_ROOT to the checkout"
        )
    return root


def models_dir() -> Path:
    return project_root() / "models"


def calibration_dir() -> Path:
    return project_root() / "calibration"
