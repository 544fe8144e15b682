"""Golden results: the real int8 (default) and fp32 detectors on real photos in the repo.

Expected boxes were read off the images (people walking in OpenCV's vtest.avi; a footballer
and his ball in messi5.jpg) and agree with the fp32 model. A detection must overlap its
expected box with IoU >= 0.7.
"""

import numpy as np
import pytest

from glasses.imageio import read_image
from glasses.perception.postprocess import iou_matrix

VTEST_0300_PEOPLE = [(484, 134, 510, 196), (153, 133, 184, 196), (260, 176, 289, 246),
                     (514, 136, 538, 194), (201, 133, 222, 184), (247, 133, 272, 191)]
VTEST_0300_VEHICLE = (542, 36, 606, 82)  # a parked van: "truck"
VTEST_0000_PEOPLE = [(416, 132, 442, 195), (533, 199, 571, 270), (210, 183, 237, 257)]
MESSI_PERSON = (62, 67, 461, 333)
MESSI_BALL = (338, 288, 389, 336)


def found(result, label, box, min_iou=0.7):
    boxes = [d.box for d in result if d.label == label]
    return bool(boxes) and iou_matrix(np.array([box]), np.array(boxes)).max() >= min_iou


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_people_and_van_in_vtest_0300(precision, bench_dir, int8_detector, fp32_detector):
    det = int8_detector if precision == "int8" else fp32_detector
    result = det(read_image(bench_dir / "vtest_0300.jpg"))
    assert result.precision == precision
    assert result.image_size == (640, 480)
    for box in VTEST_0300_PEOPLE:
        assert found(result, "person", box), f"person at {box} missing: {result.items}"
    assert found(result, "truck", VTEST_0300_VEHICLE)
    assert sum(d.label == "person" for d in result) == len(VTEST_0300_PEOPLE)


def test_people_in_vtest_0000(bench_dir, int8_detector):
    result = int8_detector(read_image(bench_dir / "vtest_0000.jpg"))
    for box in VTEST_0000_PEOPLE:
        assert found(result, "person", box)


def test_footballer_and_ball(bench_dir, int8_detector):
    result = int8_detector(read_image(bench_dir / "messi5.jpg"))
    assert found(result, "person", MESSI_PERSON)
    assert found(result, "sports ball", MESSI_BALL, 0.6)
    best = max(result, key=lambda d: d.score)
    assert best.label == "person" and best.score > 0.75


def test_nothing_in_an_empty_scene(int8_detector):
    flat = np.full((480, 640, 3), 127, np.uint8)
    assert len(int8_detector(flat)) == 0


def test_boxes_scale_with_the_image(bench_dir, int8_detector):
    img = read_image(bench_dir / "messi5.jpg")
    big = int8_detector(np.ascontiguousarray(np.repeat(np.repeat(img, 2, axis=0), 2, axis=1)))
    assert found(big, "person", tuple(2 * v for v in MESSI_PERSON))


def test_detections_carry_their_timing(bench_dir, int8_detector):
    result = int8_detector(read_image(bench_dir / "messi5.jpg"))
    assert result.elapsed_ms > 0
    assert set(result.timings) == {"preprocess_ms", "inference_ms", "postprocess_ms"}


def test_smaller_input_size_still_finds_the_people(bench_dir):
    from glasses.perception.detector import load_detector
    from glasses.perception.runtime import RuntimeOptions

    det = load_detector("int8", RuntimeOptions(threads=2), input_size=320)
    assert det.config.input_size == 320
    result = det(read_image(bench_dir / "vtest_0300.jpg"))
    assert sum(found(result, "person", box, 0.6) for box in VTEST_0300_PEOPLE) >= 5


def test_input_size_must_be_a_multiple_of_32():
    from glasses.errors import InputError
    from glasses.perception.detector import load_detector

    with pytest.raises(InputError, match="multiple of 32"):
        load_detector("int8", input_size=300)
