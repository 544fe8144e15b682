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


def audio_report() -> dict:
    """What speech and sound can use here, for ``glasses doctor``."""
    import importlib.metadata

    try:
        pyttsx3_version = importlib.metadata.version("pyttsx3")
    except importlib.metadata.PackageNotFoundError:
        pyttsx3_version = None
    return {
        "espeak-ng": shutil.which("espeak-ng"),  # None: apt-get install espeak-ng
        "pyttsx3": pyttsx3_version,
        "player": " ".join(player_command() or []) or None,
        "sounddevice": sounddevice_module() is not None,
    }
