"""Spatial layer: pixels -> directions, distances, tracks and anchors."""
