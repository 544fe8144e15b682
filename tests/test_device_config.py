"""Device profiles: the built-ins, TOML files that override them, and one-line errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from glasses.config import BUILTIN_PROFILES, DeviceProfile, load_profile, profile_from_mapping
from glasses.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, threads, precision, detect_every, display", [
    ("pi4", 4, "fp32", 2, "none"),
    ("pi5", 4, "int8", 1, "optical"),
    ("jetson", 4, "int8", 1, "optical"),
    ("laptop", 2, "int8", 1, "video"),
])
def test_builtin_profiles(name, threads, precision, detect_every, display):
    p = load_profile(name)
    assert (p.name, p.threads, p.precision, p.detect_every, p.display) == (
        name, threads, precision, detect_every, display)
    assert p is BUILTIN_PROFILES[name]


def test_the_shipped_example_loads():
    p = load_profile(ROOT / "calibration" / "devices" / "example.toml")
    assert p == DeviceProfile("pi5-glasses", threads=3, precision="int8", detect_every=1, text_rate_hz=1.0,
                              display="optical")


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_file_overrides_fields_of_its_base(tmp_path):
    p = load_profile(write(tmp_path, 'base = "pi4"\ndetect_every = 3\ntext_rate_hz = 0\n'))
    assert p == replace(BUILTIN_PROFILES["pi4"], name="mine", detect_every=3, text_rate_hz=0.0)
    assert isinstance(p.text_rate_hz, float)


def test_a_file_without_base_gives_every_field(tmp_path):
    p = load_profile(str(write(tmp_path, 'threads = 1\nprecision = "fp32"\ndetect_every = 1\n'
                                         'text_rate_hz = 0.25\ndisplay = "none"\nname = "tiny"\n')))
    assert p == DeviceProfile("tiny", 1, "fp32", 1, 0.25, "none")


@pytest.mark.parametrize("text, message", [
    ('base = "pi5"\nthreads = "x"\n', "mine.toml: threads must be a whole number >= 1 and <= 256, got 'x'"),
    ('base = "pi5"\nthreads = 0\n', "threads must be a whole number >= 1 and <= 256, got 0"),
    ('base = "pi5"\nthreads = 2.0\n', "threads must be a whole number >= 1 and <= 256, got 2.0"),
    ('base = "pi5"\nthreads = true\n', "threads must be a whole number >= 1 and <= 256, got True"),
    ('base = "pi5"\nprecision = "fp16"\n', "precision must be one of int8, fp32, got 'fp16'"),
    ('base = "pi5"\ndetect_every = -1\n', "detect_every must be a whole number >= 1"),
    ('base = "pi5"\ntext_rate_hz = "often"\n', "text_rate_hz must be a number of times a second from 0"),
    ('base = "pi5"\ntext_rate_hz = -1\n', "text_rate_hz must be a number"),
    ('base = "pi5"\ntext_rate_hz = nan\n', "text_rate_hz must be a number"),
    ('base = "pi5"\ndisplay = "hud"\n', "display must be one of video, optical, none, got 'hud'"),
    ('base = "pi5"\nname = ""\n', "name must be a non-empty string"),
    ('base = "pi3"\n', "base must be one of pi4, pi5, jetson, laptop, got 'pi3'"),
    ('base = "pi5"\nthread = 2\n', "unknown key 'thread' \\(did you mean 'threads'\\?\\); allowed: base, name, threads"),
    ('base = "pi5"\ninput_size = 300\n', "input_size must be a multiple of 32"),
    ('base = "pi5"\ninput_size = 64\n', "input_size must be a whole number >= 128"),
    ('base = "pi5"\n[camera]\nfps = 30\n', "unknown key 'camera'"),
    ('threads = 2\n', "precision, detect_every, text_rate_hz, display missing: give them, or start from a built-in"),
    ('threads = \n', "mine.toml: not valid TOML"),
])
def test_bad_files_are_one_line_errors_that_say_what_is_allowed(tmp_path, text, message):
    with pytest.raises(InputError, match=message) as err:
        load_profile(write(tmp_path, text))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("arg, message", [
    ("pi6", "--profile must be one of pi4, pi5, jetson, laptop or a .toml file, got 'pi6'"),
    ("missing.toml", "no device profile file at"),
])
def test_bad_profile_names(arg, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=message):
        load_profile(arg)


def test_profiles_validate_when_built_in_code():
    with pytest.raises(InputError, match="detect_every"):
        replace(BUILTIN_PROFILES["laptop"], detect_every=0)
    assert BUILTIN_PROFILES["laptop"].to_json()["threads"] == 2


def test_mapping_errors_name_their_source():
    with pytest.raises(InputError, match="^flags: threads"):
        profile_from_mapping({"base": "pi5", "threads": 0}, source="flags")


def test_input_size_in_profiles():
    assert load_profile("pi4").input_size == 320 and load_profile("laptop").input_size == 416
