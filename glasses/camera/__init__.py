"""Camera stage: frame sources (cameras, video files, image folders, streams, picamera2).

Use ``open_source(spec)``; every source is a context manager whose ``read()`` gives the newest
frame not yet delivered. Nothing here opens a device or starts a thread at import time.
"""

from .sources import open_source
from .types import EndOfStream, Frame, FrameSource, SourceStats

__all__ = ["EndOfStream", "Frame", "FrameSource", "SourceStats", "open_source"]
