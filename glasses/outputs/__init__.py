"""Outputs other than audio: the overlay renderer and window (overlay), the annotated video
recording (recorder) and the JSONL events log (events)."""
