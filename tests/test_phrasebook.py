"""Sign phrasebook: the tables load and are complete, phrase before word matches, normalisation of
case, spacing and OCR look-alikes, untranslatable lines, sign blocks, the neural plug-in."""


import pytest

from glasses.errors import InputError, ModelError
from glasses.perception.text import TextLine, sign_blocks
from glasses.translate.neural import ChainTranslator, load_neural_translator
from glasses.translate.phrasebook import (
    PhrasebookError, Translation, fold, load_phrasebook, normalise,
)

LANGS = ("en", "ko", "ja", "zh", "es", "fr", "de")


@pytest.fixture(scope="module")
def pb():
    return load_phrasebook()


def test_tables_cover_seven_languages_and_300_phrases(pb):
    assert pb.languages == LANGS
    assert len(pb) >= 300
    for entry in pb.entries:
        assert set(entry.phrases) == set(LANGS), entry.origin


@pytest.mark.parametrize("text, to, want, match", [
    # whole phrases, in any of the languages
    ("EXIT", "ko", "출구", "phrase"),
    ("NO PARKING", "ja", "駐車禁止", "phrase"),
    ("Emergency Exit", "zh", "紧急出口", "phrase"),
    ("Sortie", "en", "exit", "phrase"),
    ("Notausgang", "es", "salida de emergencia", "phrase"),
    ("出口", "ko", "출구", "phrase"),
    ("禁止吸烟", "fr", "défense de fumer", "phrase"),
    ("화장실", "de", "Toiletten", "phrase"),
    # normalisation: case, punctuation, spacing, run-together words, OCR look-alikes
    ("no parking!", "de", "Parken verboten", "phrase"),
    ("NOPARKING", "ko", "주차 금지", "phrase"),
    ("NO   PARKING", "ko", "주차 금지", "phrase"),
    ("NO-PARKING", "ko", "주차 금지", "phrase"),
    ("N0 PARKING", "ko", "주차 금지", "phrase"),
    ("EX1T", "fr", "sortie", "phrase"),
    ("EXlT", "fr", "sortie", "phrase"),
    ("N0 5MOKING", "es", "prohibido fumar", "phrase"),
    ("T0ILETS", "ja", "トイレ", "phrase"),
    ("Ｅｘｉｔ", "ko", "출구", "phrase"),  # full-width letters
    # a number slot
    ("PLATFORM 2", "ja", "2番線", "template"),
    ("Platform 4b", "ko", "4B번 승강장", "template"),
    ("GATE 12", "zh", "12号登机口", "template"),
    ("Gleis 7", "fr", "quai 7", "template"),
    # phrase-level wins over word-level: "no smoking" is not "no" + "smoking"
    ("NO SMOKING", "en", "no smoking", "phrase"),
    # word level: every word known, numbers and times pass through
    ("FLOORS 1-4", "de", "Etage 1-4", "words"),
    ("OPEN 9:00-17:00", "fr", "ouvert 9:00-17:00", "words"),
    ("Monday - Friday", "ja", "月曜日-金曜日", "words"),
    ("EXIT LEFT", "ko", "출구 왼쪽", "words"),
])
def test_translations(pb, text, to, want, match):
    t = pb.translate(text, to)
    assert (t.text, t.match) == (want, match)


@pytest.mark.parametrize("text", ["unicef", "technical details are too complex", "EXIT TO THE GARDEN", "12", "-", ""])
def test_untranslatable_lines_are_marked_not_guessed(pb, text):
    t = pb.translate(text, "ko")
    assert t.text is None and t.match == "none" and not t.translated


def test_bad_target_language_lists_the_languages(pb):
    with pytest.raises(InputError, match="--to must be one of en, ko, ja, zh, es, fr, de, got 'xx'"):
        pb.translate("EXIT", "xx")


@pytest.mark.parametrize("raw, norm, key", [
    ("  No  Parking! ", "no parking", "no parking"),
    ("Wi-Fi", "wi fi", "wi fi"),
    ("men's", "mens", "mens"),
    ("9:00-17:00", "9:00-17:00", "9ooi7oo"),
    ("EX!T", "ex!t", "exit"),
    ("5MOKING", "5moking", "smoking"),
])
def test_normalise_and_fold(raw, norm, key):
    assert normalise(raw) == norm
    assert fold(raw) == key


def test_block_translates_stacked_lines_together(pb):
    ts = pb.translate_block(["NO", "PARKING"], "ko")
    assert [(t.text, t.joined) for t in ts] == [("주차 금지", 2), ("주차 금지", 2)]
    ts = pb.translate_block(["PLATFORM 2", "WAY OUT"], "ko")
    assert [(t.text, t.match, t.joined) for t in ts] == [("2번 승강장", "template", 1), ("출구", "phrase", 1)]
    ts = pb.translate_block(["unicef", "EXIT"], "ko")
    assert [t.text for t in ts] == [None, "출구"]


def quad_line(text, x, y, w=100, h=20):
    return TextLine(text, 0.9, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def test_sign_blocks_group_stacked_lines():
    lines = [quad_line("NO", 20, 0, w=40), quad_line("PARKING", 0, 28), quad_line("far below", 0, 200),
             quad_line("beside", 400, 205)]
    assert sign_blocks(lines) == [[0, 1], [2], [3]]


@pytest.mark.parametrize("row, match", [
    ("exit\t출구\n", "2 cells, expected 7"),
    ("exit\t\t出口\t出口\tsalida\tsortie\tAusgang\n", "empty ko cell"),
    ("gate {n}\t게이트\t{n}番ゲート\t{n}号登机口\tpuerta {n}\tporte {n}\tGate {n}\n", "needs {n} in every"),
])
def test_malformed_tables_name_file_and_line(tmp_path, row, match):
    (tmp_path / "a.tsv").write_text("# c\n" + "\t".join(LANGS) + "\n" + row, encoding="utf-8")
    with pytest.raises(PhrasebookError, match=rf"a.tsv:3: .*{match}"):
        load_phrasebook(tmp_path)


def test_translation_is_validated():
    with pytest.raises(ValueError, match="text must be None exactly"):
        Translation("x", "ko", None, "phrase")


class EchoModel:
    languages = ("ko",)

    def translate(self, text, target):
        return f"[{target}] {text}"


def test_neural_plugin_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="missing: glasses ships no neural translation model"):
        load_neural_translator(tmp_path / "opus-mt.onnx", lambda p: EchoModel())


def test_neural_plugin_factory_failure_and_chain(tmp_path, pb):
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelError, match="does not load: ValueError: bad header"):
        load_neural_translator(f, lambda p: (_ for _ in ()).throw(ValueError("bad header")))
    chain = ChainTranslator(pb, load_neural_translator(f, lambda p: EchoModel()))
    assert chain.translate("EXIT", "ko").match == "phrase"  # the phrasebook first
    t = chain.translate("unicef", "ko")
    assert (t.text, t.match) == ("[ko] unicef", "neural")
    assert chain.translate("unicef", "ja").match == "none"  # the model lacks ja
