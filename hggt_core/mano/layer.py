# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Pure-torch MANO layer, numerically equivalent to ``smplx.MANO`` 0.1.28 and ONNX-exportable.

All model arrays are float32 buffers; the kinematic chain is unrolled over the static parent
tuple, so the traced graph has no data-dependent indexing. Coordinates are those of the MANO
model (metres); ``transl`` is added after posing, exactly like smplx.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor, nn

from hggt_core.base.hand_skeleton import (
    MANO_PARENTS,
    NUM_BETAS,
    NUM_JOINTS,
    NUM_POSE_PARAMS,
    OPENPOSE_FROM_MANO,
    FingertipConvention,
    fingertip_vertex_ids,
)
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.io import ManoFileError, ManoModelData, find_mano_file, load_mano_model


class ManoOutput(NamedTuple):
    """Posed MANO hand (all in the model frame plus ``transl``, metres).

    Attributes:
        vertices: [B, 778, 3] posed mesh vertices.
        joints: [B, 21, 3] joints in OpenPose order, fingertips included (see
            :mod:`hggt_core.base.hand_skeleton`).
        joints16: [B, 16, 3] the MANO skeleton joints in MANO order.
        global_rotations: [B, 16, 3, 3] each joint's rotation relative to the model frame
            (product of the local rotations from the root down to the joint).
    """

    vertices: Tensor
    joints: Tensor
    joints16: Tensor
    global_rotations: Tensor


def _buffer(array: npt.NDArray[np.float64]) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


class ManoLayer(nn.Module):
    """MANO as a differentiable layer (smplx.MANO semantics).

    Args:
        model: arrays of one hand (see :func:`hggt_core.mano.io.load_mano_model`); a left hand
            is simply a layer built from the left model (smplx ``is_rhand=False``).
        use_pca: if True, ``hand_pose`` holds ``num_pca_comps`` PCA coefficients that are
            mapped to axis-angle through the first rows of ``hands_components``.
        num_pca_comps: number of PCA components (1..45). As in smplx, 45 disables PCA and
            ``hand_pose`` is then read as axis-angle.
        flat_hand_mean: if False (the MANO default and the HGGT release), the finger pose is an
            offset from ``hands_mean``; if True the zero pose is the flat hand.
        fingertips: which vertices give the five fingertip joints of ``ManoOutput.joints``.
    """

    _PARENTS: tuple[int, ...] = MANO_PARENTS

    def __init__(
        self,
        model: ManoModelData,
        use_pca: bool = False,
        num_pca_comps: int = 6,
        flat_hand_mean: bool = False,
        fingertips: FingertipConvention | str = FingertipConvention.FREIHAND,
    ) -> None:
        """Register the model arrays as float32 buffers (arguments: see the class)."""
        super().__init__()
        if not 1 <= num_pca_comps <= NUM_POSE_PARAMS:
            raise ValueError(f"num_pca_comps must be in [1, 45], got {num_pca_comps}")
        self.side = model.side
        self.use_pca = use_pca and num_pca_comps != NUM_POSE_PARAMS
        self.num_pca_comps = num_pca_comps
        self.flat_hand_mean = flat_hand_mean
        tips = fingertip_vertex_ids(fingertips)
        self.fingertips = FingertipConvention(fingertips)
        self.pose_dim = num_pca_comps if self.use_pca else NUM_POSE_PARAMS
        num_vertices = model.v_template.shape[0]

        self.v_template: Tensor
        self.shapedirs: Tensor
        self.posedirs: Tensor
        self.J_regressor: Tensor
        self.lbs_weights: Tensor
        self.hand_mean: Tensor
        self.hand_components: Tensor
        self.tip_ids: Tensor
        self.openpose_order: Tensor
        self.faces: Tensor
        self.register_buffer("v_template", _buffer(model.v_template))
        # [10, V*3] so shape blending is one matmul.
        self.register_buffer(
            "shapedirs", _buffer(model.shapedirs.reshape(num_vertices * 3, NUM_BETAS).T)
        )
        # [135, V*3], smplx's layout of the official [V, 3, 135] array.
        self.register_buffer("posedirs", _buffer(model.posedirs.reshape(num_vertices * 3, -1).T))
        self.register_buffer("J_regressor", _buffer(model.J_regressor))
        self.register_buffer("lbs_weights", _buffer(model.weights))
        hand_mean = np.zeros_like(model.hands_mean) if flat_hand_mean else model.hands_mean
        self.register_buffer("hand_mean", _buffer(hand_mean))
        # Read only with use_pca; registered always so both variants share one set of buffers.
        self.register_buffer("hand_components", _buffer(model.hands_components[: self.pose_dim]))
        self.register_buffer("tip_ids", torch.tensor(tips, dtype=torch.long))
        self.register_buffer("openpose_order", torch.tensor(OPENPOSE_FROM_MANO, dtype=torch.long))
        # [1538, 3] triangles for renderers and exporters; not part of the state dict.
        self.register_buffer(
            "faces", torch.from_numpy(model.faces.astype(np.int64)), persistent=False
        )

    def forward(
        self,
        global_orient: Tensor,
        hand_pose: Tensor,
        betas: Tensor,
        transl: Tensor | None = None,
    ) -> ManoOutput:
        """Pose and shape the hand.

        Args:
            global_orient: [B, 3] root (wrist) rotation, axis-angle in radians.
            hand_pose: [B, 45] finger joint rotations (axis-angle, joints 1..15 in MANO order;
                offsets from ``hands_mean`` unless ``flat_hand_mean``), or
                [B, num_pca_comps] PCA coefficients when ``use_pca``.
            betas: [B, 10] shape coefficients.
            transl: [B, 3] translation in metres added to vertices and joints, or None.

        Returns:
            The posed hand; see :class:`ManoOutput`.
        """
        batch = global_orient.shape[0]
        if self.use_pca:
            hand_pose = hand_pose @ self.hand_components
        full_pose = torch.cat([global_orient, hand_pose + self.hand_mean], dim=1)
        rot_local = axis_angle_to_matrix(full_pose.reshape(batch, NUM_JOINTS, 3))

        v_shaped = self.v_template + (betas @ self.shapedirs).reshape(batch, -1, 3)
        joints_rest = self.J_regressor @ v_shaped
        eye = torch.eye(3, dtype=rot_local.dtype, device=rot_local.device)
        pose_feature = (rot_local[:, 1:] - eye).reshape(batch, -1)
        v_posed = v_shaped + (pose_feature @ self.posedirs).reshape(batch, -1, 3)

        rot_global, joints_posed = self._kinematic_chain(rot_local, joints_rest)
        # Skinning transform of joint k maps rest-pose points: x -> G_k x + (p_k - G_k j_k).
        offsets = joints_posed - (rot_global @ joints_rest.unsqueeze(-1)).squeeze(-1)
        transforms = torch.cat([rot_global, offsets.unsqueeze(-1)], dim=-1)
        blended = (self.lbs_weights @ transforms.reshape(batch, NUM_JOINTS, 12)).reshape(
            batch, -1, 3, 4
        )
        vertices = (blended[..., :3] @ v_posed.unsqueeze(-1)).squeeze(-1) + blended[..., 3]

        joints16 = joints_posed
        if transl is not None:
            vertices = vertices + transl.unsqueeze(1)
            joints16 = joints16 + transl.unsqueeze(1)
        tips = vertices.index_select(1, self.tip_ids)
        joints = torch.cat([joints16, tips], dim=1).index_select(1, self.openpose_order)
        return ManoOutput(vertices, joints, joints16, rot_global)

    def forward_theta(
        self, theta: Tensor, betas: Tensor, transl: Tensor | None = None
    ) -> ManoOutput:
        """Pose from a single pose vector, as predicted by HGGT.

        Args:
            theta: [B, 3 + P]: global orientation (3, axis-angle) followed by the hand pose
                (P = 45 axis-angle values, or num_pca_comps with ``use_pca``).
            betas: [B, 10] shape coefficients.
            transl: [B, 3] translation in metres, or None.

        Returns:
            The posed hand; see :class:`ManoOutput`.
        """
        return self.forward(theta[:, :3], theta[:, 3:], betas, transl)

    def _kinematic_chain(self, rot_local: Tensor, joints_rest: Tensor) -> tuple[Tensor, Tensor]:
        """Compose local rotations down the tree (unrolled over the static parents).

        Args:
            rot_local: [B, 16, 3, 3] local joint rotations.
            joints_rest: [B, 16, 3] rest-pose joint positions.

        Returns:
            Global rotations [B, 16, 3, 3] and posed joint positions [B, 16, 3].
        """
        rotations = rot_local.unbind(1)
        rest = joints_rest.unbind(1)
        rot_global: list[Tensor] = []
        positions: list[Tensor] = []
        for joint, parent in enumerate(self._PARENTS):
            if parent < 0:
                rot_global.append(rotations[joint])
                positions.append(rest[joint])
                continue
            bone = (rest[joint] - rest[parent]).unsqueeze(-1)
            rot_global.append(rot_global[parent] @ rotations[joint])
            positions.append((rot_global[parent] @ bone).squeeze(-1) + positions[parent])
        return torch.stack(rot_global, dim=1), torch.stack(positions, dim=1)


def mano_layers_from_dir(
    mano_dir: str | Path,
    fingertips: FingertipConvention | str = FingertipConvention.FREIHAND,
) -> tuple[ManoLayer, ManoLayer]:
    """Build the right and left MANO layers HGGT needs from a directory of official files.

    Both ``MANO_RIGHT`` and ``MANO_LEFT`` (``.pkl`` or ``.npz``) are required: they ship
    together. The left model is loaded with ``fix_left_shapedirs=True`` so that it is the
    mirror image of the right one, which makes the left hands posed with it agree with the
    mirrored right-hand prediction (see :class:`hggt_core.pipeline.predictor.Predictor`).

    Args:
        mano_dir: directory holding both model files.
        fingertips: fingertip convention of the layers' 21 joints.

    Returns:
        (right layer, left layer), float32, on the CPU, ``use_pca=False``,
        ``flat_hand_mean=False`` (the release's convention).

    Raises:
        ManoFileError: not a directory, a model file missing, or a file that is not MANO.
    """
    root = Path(mano_dir).expanduser()
    if not root.is_dir():
        raise ManoFileError(f"MANO directory not found: {root} (it must hold both hands' models)")
    try:
        right_path = find_mano_file(root, "right")
        left_path = find_mano_file(root, "left")
    except ManoFileError as error:
        raise ManoFileError(f"HGGT needs both MANO hand models: {error}") from error
    right = load_mano_model(right_path, "right")
    left = load_mano_model(left_path, "left", fix_left_shapedirs=True)
    return (
        ManoLayer(right, use_pca=False, flat_hand_mean=False, fingertips=fingertips),
        ManoLayer(left, use_pca=False, flat_hand_mean=False, fingertips=fingertips),
    )
