# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The landmark engine's predictor on synthetic scenes whose landmarks are the ground truth.

The landmark source here is not MediaPipe: it reads the landmarks off rendered synthetic
scenes (projected joints, camera-aligned hand-centred world joints, plus noise), so the
fusion, the MANO fit and the result assembly are checked against known cameras and hands.
MediaPipe itself runs on real images in test_landmarker.py and test_real_examples.py.
"""

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
import torch

from hggt_core.calibration import Calibration, KnownCamera, express_in_world
from hggt_core.geometry.distortion import LensDistortion, distort_pixels
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.landmarks.landmarker import HandLandmarks
from hggt_core.landmarks.predictor import (
    LandmarkPredictor,
    LandmarkPredictorConfig,
    group_by_hand,
    prior_intrinsics,
    undistort_landmarks,
)
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.metrics import evaluate_hand, relative_pose_errors_deg
from hggt_core.pipeline.filters import FilterConfig
from hggt_core.pipeline.types import FrameSet, HandSide, View
from hggt_core.render.scene import SyntheticExample, render_multiview_example
from hggt_core.render.scene_config import SceneConfig

SCENE = SceneConfig(crop_size=224, supersample=1, view_cone_deg=60.0)


class SceneLandmarks:
    """Landmarks of a synthetic example's views: the truth plus Gaussian noise."""

    def __init__(
        self,
        example: SyntheticExample,
        side: HandSide = "right",
        noise_px: float = 0.0,
        noise_m: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.example, self.side = example, side
        self.noise_px, self.noise_m = noise_px, noise_m
        self.rng = np.random.default_rng(seed)
        self.closed = False
        self.calls = 0

    def detect(self, frameset: FrameSet) -> Mapping[str, Sequence[HandLandmarks]]:
        self.calls += 1
        found = {}
        for view in self.example.views:
            in_camera = self.example.joints @ view.cam_from_ref[:3, :3].T
            world = in_camera - in_camera.mean(axis=0)
            found[view.name] = [
                HandLandmarks(
                    side=self.side,
                    handedness_score=0.9,
                    uv=view.joints_2d + self.rng.normal(0.0, self.noise_px, (21, 2)),
                    world_m=world + self.rng.normal(0.0, self.noise_m, (21, 3)),
                )
            ]
        return found

    def close(self) -> None:
        self.closed = True


@pytest.fixture(scope="module")
def layers() -> tuple[ManoLayer, ManoLayer]:
    return ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))


def _example(layer: ManoLayer, views: int, seed: int) -> SyntheticExample:
    return render_multiview_example(layer, np.random.default_rng(seed), views, SCENE)


def _errors(example: SyntheticExample, result) -> tuple[float, float, float]:
    """RR-MPJPE, PA-MPJPE (mm) and mean relative camera rotation error (degrees)."""
    hand = evaluate_hand(
        torch.from_numpy(result.joints[None]), torch.from_numpy(example.joints[None])
    )
    predicted = np.stack([camera.cam_from_ref for camera in result.cameras])
    truth = np.stack([view.cam_from_ref for view in example.views])
    rotation, _ = relative_pose_errors_deg(torch.from_numpy(predicted), torch.from_numpy(truth))
    mean_rotation = float(rotation.mean()) if rotation.numel() else 0.0
    return hand.rr_mpjpe_mm, hand.pa_mpjpe_mm, mean_rotation


@pytest.mark.parametrize("views", [1, 2, 4])
def test_exact_landmarks_give_the_scene_back(layers, views: int) -> None:
    example = _example(layers[0], views, seed=views)
    predictor = LandmarkPredictor(SceneLandmarks(example), *layers)
    [result] = predictor(example.frameset(stamp_ns=3_500_000_000, with_intrinsics=True))
    rr_mm, pa_mm, rotation_deg = _errors(example, result)
    assert rr_mm < 4.0 and pa_mm < 4.0 and rotation_deg < 0.5
    # Metric: the hand sits where it is, not only in the right shape (joints in camera 0).
    assert np.linalg.norm(result.joints[0] - example.joints[0]) < 0.01
    assert result.stamp_ns == 3_500_000_000 and result.side == "right"
    assert result.views_used == tuple(view.name for view in example.views)
    assert result.hand_pose.shape == (48,) and result.betas.shape == (10,)
    assert result.vertices.shape == (778, 3) and result.joint_rotations.shape == (21, 3, 3)
    for camera, view in zip(result.cameras, example.views, strict=True):
        assert np.abs(camera.joints_2d - view.joints_2d).max() < 3.0
    assert set(result.timings_s) == {"landmarks", "fusion", "fit", "filter"}


def test_noisy_uncalibrated_views_stay_close(layers) -> None:
    example = _example(layers[0], 4, seed=11)
    source = SceneLandmarks(example, noise_px=2.0, noise_m=0.005, seed=1)
    config = LandmarkPredictorConfig(fov_deg=60.0)
    [result] = LandmarkPredictor(source, *layers, config)(example.frameset())
    rr_mm, pa_mm, rotation_deg = _errors(example, result)
    assert pa_mm < 10.0 and rotation_deg < 10.0
    assert rr_mm < 25.0


def test_the_prior_intrinsics_are_used_without_camera_info(layers) -> None:
    example = _example(layers[0], 2, seed=3)
    config = LandmarkPredictorConfig(fov_deg=50.0)
    [result] = LandmarkPredictor(SceneLandmarks(example), *layers, config)(example.frameset())
    expected = prior_intrinsics(SCENE.crop_size, SCENE.crop_size, 50.0)
    for camera in result.cameras:
        np.testing.assert_allclose(camera.intrinsics, expected)


def test_left_hands_use_the_left_model(layers) -> None:
    example = _example(layers[1], 2, seed=5)
    source = SceneLandmarks(example, side="left")
    [result] = LandmarkPredictor(source, *layers)(example.frameset(with_intrinsics=True))
    rr_mm, _, rotation_deg = _errors(example, result)
    assert result.side == "left" and rr_mm < 4.0 and rotation_deg < 0.5


def test_too_few_views_and_warm_starts(layers) -> None:
    example = _example(layers[0], 2, seed=7)
    source = SceneLandmarks(example)
    config = LandmarkPredictorConfig(min_hand_views=3)
    assert LandmarkPredictor(source, *layers, config)(example.frameset()) == []
    predictor = LandmarkPredictor(
        source, *layers, LandmarkPredictorConfig(temporal_filter=FilterConfig())
    )
    first = predictor(example.frameset(0, with_intrinsics=True))[0]
    second = predictor(example.frameset(33_000_000, with_intrinsics=True))[0]
    np.testing.assert_allclose(second.joints, first.joints, atol=2e-3)
    predictor.close()
    assert source.closed


def _detection(side: HandSide, score: float) -> HandLandmarks:
    return HandLandmarks(side, score, np.zeros((21, 2)), np.zeros((21, 3)))


def test_one_hand_per_view_is_one_hand_whose_side_the_views_vote() -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    views = [View(name, 0, image) for name in ("a", "b", "c")]
    found = {
        "a": [_detection("right", 0.9)],
        "b": [_detection("left", 0.64)],
        "c": [_detection("right", 0.8)],
    }
    grouped = group_by_hand(views, found)
    assert list(grouped) == ["right"]
    assert [view.name for view, _ in grouped["right"]] == ["a", "b", "c"]
    found["a"].append(_detection("left", 0.9))
    grouped = group_by_hand(views, found)
    assert [view.name for view, _ in grouped["right"]] == ["a", "c"]
    assert [view.name for view, _ in grouped["left"]] == ["a", "b"]
    assert group_by_hand(views, {}) == {}


# A wide-angle VGA camera (94 degrees across) and its barrel distortion.
K_WIDE = np.array([[300.0, 0.0, 320.0], [0.0, 300.0, 240.0], [0.0, 0.0, 1.0]])
WIDE_LENS = LensDistortion("plumb_bob", (-0.3, 0.1, 0.0005, -0.0005, 0.0))


def _seen_off_axis(example: SyntheticExample) -> SyntheticExample:
    """The example through wide-angle cameras turned about their centres by 30 and 15 degrees.

    The hand then lies off axis, where the lens bends most; the reference frame is the turned
    camera 0.
    """
    yaw, pitch = np.radians(-30.0), np.radians(15.0)
    about_y = np.array(
        [[np.cos(yaw), 0.0, np.sin(yaw)], [0.0, 1.0, 0.0], [-np.sin(yaw), 0.0, np.cos(yaw)]]
    )
    about_x = np.array(
        [
            [1.0, 0.0, 0.0],
            [0.0, np.cos(pitch), -np.sin(pitch)],
            [0.0, np.sin(pitch), np.cos(pitch)],
        ]
    )
    turn = np.eye(4)
    turn[:3, :3] = about_y @ about_x
    views = []
    for view in example.views:
        cam_from_ref = turn @ view.cam_from_ref @ np.linalg.inv(turn)
        joints = example.joints @ turn[:3, :3].T
        in_camera = joints @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
        uv = (in_camera[:, :2] / in_camera[:, 2:]) @ K_WIDE[:2, :2].T + K_WIDE[:2, 2]
        views.append(
            dataclasses.replace(view, intrinsics=K_WIDE, cam_from_ref=cam_from_ref, joints_2d=uv)
        )
    return dataclasses.replace(example, views=tuple(views), joints=example.joints @ turn[:3, :3].T)


class DistortedLandmarks(SceneLandmarks):
    """The scene's landmarks as the raw (distorted) image shows them."""

    def detect(self, frameset: FrameSet) -> Mapping[str, Sequence[HandLandmarks]]:
        return {
            name: [
                dataclasses.replace(hand, uv=distort_pixels(hand.uv, K_WIDE, WIDE_LENS))
                for hand in hands
            ]
            for name, hands in super().detect(frameset).items()
        }


def test_landmarks_of_a_distorted_view_are_undistorted_before_fusion(layers) -> None:
    example = _seen_off_axis(_example(layers[0], 3, seed=21))
    blank = np.zeros((480, 640, 3), np.uint8)
    for view in example.views:  # the hand lies inside the image, tens of pixels bent
        raw = distort_pixels(view.joints_2d, K_WIDE, WIDE_LENS)
        assert np.all((raw > 0) & (raw < [640, 480])) and np.abs(raw - view.joints_2d).max() > 15

    def frameset(lens: LensDistortion | None) -> FrameSet:
        views = tuple(View(view.name, 0, blank, K_WIDE, lens) for view in example.views)
        return FrameSet(0, views)

    def errors(source: SceneLandmarks, lens: LensDistortion | None) -> tuple[float, ...]:
        [result] = LandmarkPredictor(source, *layers)(frameset(lens))
        root_m = float(np.linalg.norm(result.joints[0] - example.joints[0]))
        reprojection_px = max(
            float(np.abs(camera.joints_2d - view.joints_2d).max())
            for camera, view in zip(result.cameras, example.views, strict=True)
        )
        return (*_errors(example, result), root_m, reprojection_px)

    pinhole = errors(SceneLandmarks(example), None)
    undistorted = errors(DistortedLandmarks(example), WIDE_LENS)
    ignored = errors(DistortedLandmarks(example), None)
    rr_mm, pa_mm, rotation_deg, root_m, reprojection_px = undistorted
    assert rr_mm < 4.0 and pa_mm < 4.0 and rotation_deg < 0.5 and root_m < 0.01
    assert reprojection_px < 3.0  # joints_2d: ideal pinhole pixels, like the pinhole run's
    np.testing.assert_allclose(undistorted, pinhole, rtol=0.05, atol=1e-3)
    # Ignoring the lens (measured: 5 mm, 1.8 degrees, 8 cm, 42 px) is clearly worse.
    rr_mm, _, rotation_deg, root_m, reprojection_px = ignored
    assert rr_mm > 2 * undistorted[0] and rotation_deg > 1.0
    assert root_m > 0.04 and reprojection_px > 20.0


def test_landmarks_beyond_the_lens_model_are_dropped() -> None:
    folding = LensDistortion("plumb_bob", (-0.3, 0.0, 0.0, 0.0, 0.0))  # folds at 0.70
    image = np.zeros((480, 640, 3), np.uint8)
    views = [View("plain", 0, image), View("lens", 0, image, K_WIDE, folding)]
    near = HandLandmarks("right", 0.9, np.full((21, 2), 400.0), np.zeros((21, 3)))
    far = dataclasses.replace(near, uv=np.full((21, 2), 400.0) + [[250.0, 0.0]] * 21)
    found = undistort_landmarks(views, {"plain": [far], "lens": [near, far]})
    assert found["plain"] == [far]  # no lens: untouched
    [kept] = found["lens"]
    np.testing.assert_allclose(distort_pixels(kept.uv, K_WIDE, folding), near.uv, atol=1e-6)


WORLD_FROM_REF = np.array(
    [[0.0, 0.0, 1.0, 0.4], [-1.0, 0.0, 0.0, -0.1], [0.0, -1.0, 0.0, 0.7], [0.0, 0.0, 0.0, 1.0]]
)
"""Where the examples' camera 0 is in the world of the calibration tests."""


def _world_error_m(example: SyntheticExample, result, known: Sequence[int]) -> tuple[float, ...]:
    """MPJPE in the world after express_in_world, and the alignment's residual and scale."""
    calibration = Calibration(
        "world",
        {
            example.views[i].name: KnownCamera(
                example.views[i].name, WORLD_FROM_REF @ invert_rigid(example.views[i].cam_from_ref)
            )
            for i in known
        },
    )
    placed = express_in_world([result], calibration)
    assert placed.alignment is not None
    truth = example.joints @ WORLD_FROM_REF[:3, :3].T + WORLD_FROM_REF[:3, 3]
    error = float(np.linalg.norm(placed.results[0].joints - truth, axis=-1).mean())
    return error, placed.alignment.residual_m, placed.alignment.scale


def test_views_with_known_extrinsics_are_triangulated_and_exact_in_the_world(layers) -> None:
    example = _example(layers[0], 4, seed=13)
    known = (1, 2, 3)  # view 0 unknown: the first known view becomes the reference
    views = tuple(
        dataclasses.replace(
            view, cam_from_world=camera.cam_from_ref @ invert_rigid(WORLD_FROM_REF)
        )
        if index in known
        else view
        for index, (view, camera) in enumerate(
            zip(example.frameset(with_intrinsics=True).views, example.views, strict=True)
        )
    )

    def predict(frameset: FrameSet):
        source = SceneLandmarks(example, noise_px=2.0, noise_m=0.005, seed=4)
        [result] = LandmarkPredictor(source, *layers)(frameset)
        return result

    result = predict(FrameSet(0, views))
    names = [view.name for view in example.views]
    assert result.views_used == (names[1], names[0], names[2], names[3])
    cameras = {camera.name: camera for camera in result.cameras}
    np.testing.assert_array_equal(cameras[names[1]].cam_from_ref, np.eye(4))
    for index in known[1:]:
        relative = views[index].cam_from_world @ invert_rigid(views[1].cam_from_world)
        np.testing.assert_allclose(cameras[names[index]].cam_from_ref, relative, atol=1e-12)
    error_m, residual_m, scale = _world_error_m(example, result, known)
    assert residual_m < 1e-9 and scale == pytest.approx(1.0, abs=1e-9)
    # Estimated, then aligned to the same cameras (no cam_from_world): measured 5.9 mm against
    # 1.9 mm with them.
    plain = predict(example.frameset(with_intrinsics=True))
    after_m, after_residual_m, _ = _world_error_m(example, plain, known)
    assert error_m < 0.003 and error_m < 0.6 * after_m and after_residual_m > 1e-4
    # One known view adds nothing: the frameset order and the estimate stay.
    one = tuple(
        view if index == 2 else dataclasses.replace(view, cam_from_world=None)
        for index, view in enumerate(views)
    )
    single = predict(FrameSet(0, one))
    assert single.views_used == tuple(names)
    np.testing.assert_allclose(single.joints, plain.joints, atol=1e-9)
