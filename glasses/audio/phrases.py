"""What the narrator says, per language: object names, counts, clock-face and distance grammar.

Pure tables and functions; the narrator decides *what* to say, this module *how*.
English: "person, 2 o'clock, 3 metres"; "three people ahead, 11 to 1 o'clock, nearest 4 metres".
Korean:  "3시 방향 2미터에 사람";      "11시에서 1시 방향에 사람 3명, 가장 가까운 것은 4미터".
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "ko")

# espeak-ng voice per language (``espeak-ng --voices``).
VOICES = {"en": "en-us", "ko": "ko"}

# Names a listener understands better than the COCO label.
_EN_NAMES = {
    "tv": "TV", "sports ball": "ball", "dining table": "table", "cell phone": "phone",
    "potted plant": "plant", "hair drier": "hair dryer", "remote": "remote control",
    "mouse": "computer mouse",
}
_EN_PLURALS = {
    "person": "people", "knife": "knives", "sheep": "sheep", "skis": "skis", "scissors": "scissors",
    "computer mouse": "computer mice", "TV": "TVs",
}
_EN_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

_KO_NAMES = {
    "person": "사람", "bicycle": "자전거", "car": "자동차", "motorcycle": "오토바이", "airplane": "비행기",
    "bus": "버스", "train": "기차", "truck": "트럭", "boat": "보트", "traffic light": "신호등",
    "fire hydrant": "소화전", "stop sign": "정지 표지판", "parking meter": "주차 요금기", "bench": "벤치",
    "bird": "새", "cat": "고양이", "dog": "개", "horse": "말", "sheep": "양", "cow": "소",
    "elephant": "코끼리", "bear": "곰", "zebra": "얼룩말", "giraffe": "기린", "backpack": "배낭",
    "umbrella": "우산", "handbag": "핸드백", "tie": "넥타이", "suitcase": "여행 가방", "frisbee": "원반",
    "skis": "스키", "snowboard": "스노보드", "sports ball": "공", "kite": "연", "baseball bat": "야구 방망이",
    "baseball glove": "야구 글러브", "skateboard": "스케이트보드", "surfboard": "서핑보드",
    "tennis racket": "테니스 라켓", "bottle": "병", "wine glass": "와인잔", "cup": "컵", "fork": "포크",
    "knife": "칼", "spoon": "숟가락", "bowl": "그릇", "banana": "바나나", "apple": "사과",
    "sandwich": "샌드위치", "orange": "오렌지", "broccoli": "브로콜리", "carrot": "당근", "hot dog": "핫도그",
    "pizza": "피자", "donut": "도넛", "cake": "케이크", "chair": "의자", "couch": "소파",
    "potted plant": "화분", "bed": "침대", "dining table": "식탁", "toilet": "변기", "tv": "텔레비전",
    "laptop": "노트북", "mouse": "마우스", "remote": "리모컨", "keyboard": "키보드", "cell phone": "휴대폰",
    "microwave": "전자레인지", "oven": "오븐", "toaster": "토스터", "sink": "싱크대", "refrigerator": "냉장고",
    "book": "책", "clock": "시계", "vase": "꽃병", "scissors": "가위", "teddy bear": "곰 인형",
    "hair drier": "헤어드라이어", "toothbrush": "칫솔",
}
_KO_VEHICLES = {"bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"}
_KO_ANIMALS = {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"}


@dataclass(frozen=True)
class Placed:
    """What the narrator needs of one object: label, direction, distance (and, once a tracker
    exists, its id and time to contact)."""

    label: str
    bearing_deg: float
    clock: int
    distance_m: float | None = None
    track_id: int | None = None
    time_to_contact_s: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.clock <= 12:
            raise ValueError(f"clock must be 1..12, got {self.clock}")
        if self.distance_m is not None and self.distance_m < 0:
            raise ValueError(f"distance_m must be >= 0 or None, got {self.distance_m}")

    @classmethod
    def from_placed_object(cls, p) -> "Placed":
        """From glasses.spatial.objects.PlacedObject."""
        return cls(p.detection.label, p.bearing_deg, p.clock, p.distance_m)


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    return lang


def zone(clock: int) -> str:
    """Coarse direction: ahead (11-1), right (2-5), left (7-10), behind (6)."""
    if clock in (11, 12, 1):
        return "ahead"
    if 2 <= clock <= 5:
        return "right"
    if 7 <= clock <= 10:
        return "left"
    return "behind"


def name(label: str, lang: str) -> str:
    if lang == "ko":
        return _KO_NAMES.get(label, label)
    return _EN_NAMES.get(label, label)


def plural_en(noun: str) -> str:
    if noun in _EN_PLURALS:
        return _EN_PLURALS[noun]
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    return noun + "s"


def counted(label: str, n: int, lang: str) -> str:
    """'three people', 'a cup' / '사람 3명', '자동차 2대', '컵 1개'."""
    if lang == "ko":
        counter = "명" if label == "person" else "대" if label in _KO_VEHICLES else "마리" if label in _KO_ANIMALS else "개"
        return f"{name(label, lang)} {n}{counter}"
    noun = name(label, lang)
    if n == 1:
        return ("an " if noun[0].lower() in "aeiou" else "a ") + noun
    word = _EN_NUMBERS[n] if n < len(_EN_NUMBERS) else str(n)
    return f"{word} {plural_en(noun)}"


def metres(d: float, lang: str) -> str:
    """Spoken distance: under a metre; whole metres below 10; steps of 5 beyond."""
    if d < 0.95:
        return "1미터 이내" if lang == "ko" else "under a metre"
    n = int(round(d)) if d < 9.5 else int(5 * round(d / 5))
    if lang == "ko":
        return f"{n}미터"
    return f"{n} metre" if n == 1 else f"{n} metres"


def clock_span(clocks: list[int], bearings: list[float]) -> tuple[int, int]:
    """Leftmost and rightmost clock of a group (ordered by bearing, so 11 to 1 works)."""
    order = sorted(range(len(clocks)), key=lambda i: bearings[i])
    return clocks[order[0]], clocks[order[-1]]


def _span_text(c1: int, c2: int, lang: str) -> str:
    if lang == "ko":
        return f"{c1}시 방향" if c1 == c2 else f"{c1}시에서 {c2}시 방향"
    return f"{c1} o'clock" if c1 == c2 else f"{c1} to {c2} o'clock"


_ZONE_EN = {"ahead": "ahead", "right": "on the right", "left": "on the left", "behind": "behind"}


def one_object(obj: Placed, lang: str) -> str:
    """'person, 2 o'clock, 3 metres' / '2시 방향 3미터에 사람'."""
    if lang == "ko":
        where = f"{obj.clock}시 방향" + (f" {metres(obj.distance_m, lang)}" if obj.distance_m is not None else "")
        return f"{where}에 {name(obj.label, lang)}"
    parts = [name(obj.label, lang), f"{obj.clock} o'clock"]
    if obj.distance_m is not None:
        parts.append(metres(obj.distance_m, lang))
    return ", ".join(parts)


def group(objs: list[Placed], lang: str) -> str:
    """Objects of one label: one_object() for a single one, else count, span and nearest distance."""
    if len(objs) == 1:
        return one_object(objs[0], lang)
    label = objs[0].label
    c1, c2 = clock_span([o.clock for o in objs], [o.bearing_deg for o in objs])
    zones = {zone(o.clock) for o in objs}
    known = [o.distance_m for o in objs if o.distance_m is not None]
    if lang == "ko":
        text = f"{_span_text(c1, c2, lang)}에 {counted(label, len(objs), lang)}"
        if known:
            text += f", 가장 가까운 것은 {metres(min(known), lang)}"
        return text
    text = counted(label, len(objs), lang)
    if len(zones) == 1:
        text += " " + _ZONE_EN[zones.pop()]
    text += ", " + _span_text(c1, c2, lang)
    if known:
        text += f", nearest {metres(min(known), lang)}"
    return text


def hazard(obj: Placed, lang: str) -> str:
    """'Careful! car, 12 o'clock, 2 metres' / '조심하세요! 12시 방향 2미터에 자동차'."""
    if lang == "ko":
        return f"조심하세요! {one_object(obj, lang)}"
    text = one_object(obj, lang)
    return f"Careful! {text[0].upper()}{text[1:]}"


def others(counts: list[tuple[str, int]], lang: str) -> str:
    """The rest, in one breath: 'also two chairs and a cup' / '그 밖에 의자 2개, 컵 1개'."""
    items = [counted(label, n, lang) for label, n in counts]
    if lang == "ko":
        return "그 밖에 " + ", ".join(items)
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return "also " + listed


def nothing(lang: str) -> str:
    return "인식된 물체가 없습니다" if lang == "ko" else "nothing recognised"


def sentence(text: str) -> str:
    """Capitalised, with a full stop (Korean is left as is, plus the stop)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
