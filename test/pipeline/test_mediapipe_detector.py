# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The MediaPipe hand detector on real hand crops (needs the optional ``detector`` extra)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "mediapipe", reason="mediapipe is an optional extra: pip install 'hggt_ros[detector]'"
)
cv2 = pytest.importorskip("cv2", reason="OpenCV reads the example images")

from hggt_core.pipeline.localise import ReprojectionTracker  # noqa: E402
from hggt_core.pipeline.mediapipe_detector import (  # noqa: E402
    DetectorConfig,
    MediaPipeHandDetector,
)
from hggt_core.pipeline.types import FrameSet, View  # noqa: E402

# Real hand crops with a non-commercial licence: read from the shared folder, never copied
# into the repository.
# The shared data folder lies beside the checkout (never inside the package).
EXAMPLES = Path(
    os.environ.get(
        "HGGT_EXAMPLES_DIR", Path(__file__).resolve().parents[3] / "shared/data/hggt_examples"
    )
)
needs_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"the shared example images are not present at {EXAMPLES}"
)
# mediapipe 0.10.14 calls a protobuf API that protobuf 4.25 marks as deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")


def _rgb(relative: str) -> np.ndarray:
    image = cv2.imread(str(EXAMPLES / relative), cv2.IMREAD_COLOR)
    assert image is not None, relative
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


@pytest.fixture(scope="module")
def detector() -> Iterator[MediaPipeHandDetector]:
    with MediaPipeHandDetector() as built:
        yield built


@needs_examples
def test_finds_the_right_hand_of_a_freihand_crop(detector: MediaPipeHandDetector) -> None:
    image = _rgb("Freihand/sample_0000/view_00.jpg")
    height, width = image.shape[:2]
    (found,) = detector.detect(image)
    # FreiHAND shows right hands; MediaPipe calls it "Left" (it assumes a mirrored image).
    assert found.side == "right"
    assert 0.5 <= found.score <= 1.0
    box = found.box
    assert 0.0 <= box.x_min < box.x_max <= width
    assert 0.0 <= box.y_min < box.y_max <= height
    area_fraction = (box.x_max - box.x_min) * (box.y_max - box.y_min) / (width * height)
    assert 0.1 < area_fraction < 0.8
    uv = found.landmarks_uv
    assert uv.shape == (21, 2)
    assert np.all((uv >= [box.x_min, box.y_min]) & (uv <= [box.x_max, box.y_max]))
    # The hand fills the middle of the crop: the wrist-to-fingertip span is large.
    assert np.ptp(uv[:, 0]) > 0.3 * width


@needs_examples
def test_a_mirrored_image_gives_the_other_side_and_a_mirrored_box(
    detector: MediaPipeHandDetector,
) -> None:
    image = _rgb("Freihand/sample_0000/view_00.jpg")
    width = image.shape[1]
    (found,) = detector.detect(image)
    (flipped,) = detector.detect(np.ascontiguousarray(image[:, ::-1]))
    assert flipped.side == "left"
    assert flipped.box.x_min == pytest.approx(width - found.box.x_max, abs=15.0)
    assert flipped.box.x_max == pytest.approx(width - found.box.x_min, abs=15.0)
    assert flipped.box.y_min == pytest.approx(found.box.y_min, abs=15.0)


@needs_examples
def test_selfie_convention_keeps_mediapipe_labels() -> None:
    with MediaPipeHandDetector(DetectorConfig(mirrored_input=True)) as selfie:
        (found,) = selfie.detect(_rgb("Freihand/sample_0000/view_00.jpg"))
    assert found.side == "left"


@needs_examples
def test_locates_one_right_hand_across_ho3d_views(detector: MediaPipeHandDetector) -> None:
    folder = EXAMPLES / "HO3D/sample_0000"
    views = tuple(
        View(path.stem, 0.0, _rgb(str(path.relative_to(EXAMPLES))))
        for path in sorted(folder.glob("view_*.jpg"))
    )
    assert len(views) == 5
    hands = detector.locate(FrameSet(0.0, views), [])
    assert [hand.side for hand in hands] == ["right"]
    (hand,) = hands
    assert len(hand.boxes) >= 4
    assert 0.5 <= hand.score <= 1.0
    for name, box in hand.boxes.items():
        assert 0.0 <= box.x_min < box.x_max <= 518.0, name
        assert 0.0 <= box.y_min < box.y_max <= 518.0, name
        assert (box.x_max - box.x_min) * (box.y_max - box.y_min) > 0.05 * 518 * 518, name


@needs_examples
def test_tracker_uses_the_detector_when_nothing_is_tracked(
    detector: MediaPipeHandDetector,
) -> None:
    view = View("cam0", 0.0, _rgb("HO3D/sample_0000/view_00.jpg"))
    (hand,) = ReprojectionTracker(detector).locate(FrameSet(0.0, (view,)), [])
    assert hand.side == "right"
    assert set(hand.boxes) == {"cam0"}


def test_no_hand_in_a_blank_image(detector: MediaPipeHandDetector) -> None:
    blank = np.full((240, 320, 3), 127, dtype=np.uint8)
    assert detector.detect(blank) == []
    assert detector.locate(FrameSet(0.0, (View("cam0", 0.0, blank),)), []) == []


def test_bad_input_and_use_after_close() -> None:
    detector = MediaPipeHandDetector(DetectorConfig(model_complexity=0))
    with pytest.raises(ValueError, match="uint8"):
        detector.detect(np.zeros((8, 8), dtype=np.uint8))
    detector.close()
    detector.close()
    with pytest.raises(RuntimeError, match="closed"):
        detector.detect(np.zeros((8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="model_complexity"):
        DetectorConfig(model_complexity=2)


def test_protobuf_5_or_later_is_reported_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.protobuf

    monkeypatch.setattr(google.protobuf, "__version__", "6.33.6")
    with pytest.raises(ImportError, match=r"needs protobuf < 5, found 6\.33\.6"):
        MediaPipeHandDetector()
