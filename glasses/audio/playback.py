"""Finding a way to make sound here: a command-line player (aplay, paplay, pw-play), else
sounddevice when PortAudio is present, else nothing (the caller logs instead)."""

from __future__ import annotations

import shutil

# (program, arguments before the file name); "-" reads the WAV from stdin (aplay only).
PLAYERS: tuple[tuple[str, ...], ...] = (("aplay", "-q"), ("paplay",), ("pw-play",))


def player_command() -> list[str] | None:
    """argv prefix of the first command-line WAV player installed, or None."""
    for argv in PLAYERS:
        if shutil.which(argv[0]):
            return list(argv)
    return None


def sounddevice_module():
    """The sounddevice module when it imports and finds an output device, else None."""
    try:
        import sounddevice as sd

        sd.query_devices(kind="output")
        return sd
    except Exception:  # missing module, missing PortAudio, no device: all mean "not here"
        return None
