"""Perception: models that turn a frame into typed results (no drawing, no speech)."""
