# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``hggt_retarget`` node: ``hand/mano`` in, the robot hand's ``JointState`` out.

The robot side consumes results, never engines (docs/DESIGN.md, decision 11): this node
reads ``/hand/mano`` (from ``hggt_node`` or a bag being played), poses the followed hand with
the estimator's MANO model and retargets it with :mod:`hggt_core.retarget` (dex-retargeting
with the robot's URDF, or the gripper mapping). It publishes ``retarget/joint_states``
(``sensor_msgs/JointState``: the robot's joint names, positions in radians or metres) with
the hand's stamp, exact to the nanosecond; remap it to the robot's command topic.

Threads: the subscription callback only decodes and hands the frameset to a latest-wins
worker, so the executor never waits for a solve (a solve takes ~2 ms; a slow one makes the
worker skip to the newest hand). A hand that is missing from a message, below
``hand.min_score``, or silent for ``lost.timeout_s`` follows ``lost.policy``.
Diagnostics (``/diagnostics``): state, solve time median and maximum, residual, counters.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import Header

from hggt_core.io.ros_schema import ManoParameters, decode_mano_joint_state
from hggt_core.mano.layer import ManoLayer, mano_layers_from_dir
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.retarget.dexterous import DexRetargeter
from hggt_core.retarget.gripper import GripperRetargeter
from hggt_core.retarget.stream import ManoJoints, RetargetStream
from hggt_core.retarget.types import Retargeter
from hggt_ros import conversions as conv
from hggt_ros import parameter_table, retarget_params
from hggt_ros.log_bridge import CoreLogRoute
from hggt_ros.node_support import declare, run_node
from hggt_ros.worker import LatestWinsWorker

_THROTTLE_S = 5.0
_Item = tuple[Time, ManoParameters | None]


def _package_config() -> Path | None:
    """The package's default retargeting config, or None outside an installed package."""
    try:
        from ament_index_python.packages import get_package_share_directory

        share = get_package_share_directory("hggt_ros")
    except Exception:  # not installed through colcon / ament: no default
        return None
    path = Path(share) / "config" / "retarget" / "ghand_right_dexpilot.yaml"
    return path if path.is_file() else None


class RetargetNode(Node):
    """Robot hand joint targets from ``hand/mano`` (parameters: config/retarget.yaml).

    Args:
        **kwargs: passed to :class:`rclpy.node.Node` (e.g. ``parameter_overrides``).

    Raises:
        ParameterError: invalid parameters (the node refuses to start).
        RetargetConfigError, RobotModelError, ManoFileError, ImportError: unusable files or a
            missing retarget extra.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(retarget_params.NODE_NAME, **kwargs)
        self._log_route = CoreLogRoute(self.get_logger())
        try:
            self._start()
        except BaseException:
            self._log_route.close()
            raise

    def _start(self) -> None:
        self._values = {d.name: declare(self, d) for d in retarget_params.PARAMETERS}
        self._settings = s = retarget_params.retarget_settings(self._values, _package_config())
        self._retargeter = self._build_retargeter()
        self._mano = ManoJoints(dict(zip(("right", "left"), self._mano_layers(), strict=True)))
        self._stream = RetargetStream(self._retargeter, s.lost_policy)
        self._lock = threading.Lock()  # the stream and counters, shared with diagnostics
        self._last_arrival_ns: int | None = None
        self._silence_reported = False
        self._bad_messages = 0
        reliable = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)
        self._publisher = self.create_publisher(JointState, retarget_params.OUTPUT_TOPIC, reliable)
        self._diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._worker: LatestWinsWorker[_Item] = LatestWinsWorker(
            self._process, name="hggt-retarget"
        )
        self._worker.start()
        self.create_subscription(JointState, retarget_params.INPUT_TOPIC, self._on_mano, reliable)
        self.create_timer(min(0.1, s.lost_timeout_s / 2), self._on_silence_check)
        self.create_timer(s.diagnostics_period_s, self._on_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.get_logger().info(
            f"{s.hand_side} hand -> {len(self._retargeter.joint_names)} joints "
            f"{list(self._retargeter.joint_names)} on {self._publisher.topic_name}"
        )

    def _build_retargeter(self) -> Retargeter:
        s = self._settings
        if s.dexterous is not None:
            return DexRetargeter(s.dexterous)
        assert s.gripper is not None
        return GripperRetargeter(s.gripper)

    def _mano_layers(self) -> tuple[ManoLayer, ManoLayer]:
        if self._settings.mano_dir is not None:
            return mano_layers_from_dir(self._settings.mano_dir)
        self.get_logger().warning(
            "no hand.mano_dir: posing hand/mano with the procedural stand-in hand (give the "
            "MANO folder hggt_node uses)"
        )
        return ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))

    def _on_mano(self, message: JointState) -> None:
        self._last_arrival_ns = self.get_clock().now().nanoseconds
        self._silence_reported = False
        try:
            hands = decode_mano_joint_state(list(message.name), list(message.position))
        except ValueError as error:
            self._bad_messages += 1
            self.get_logger().warning(
                f"hand/mano message ignored: {error}", throttle_duration_sec=_THROTTLE_S
            )
            return
        hand = hands.get(self._settings.hand_side)
        if hand is not None and hand.score < self._settings.min_score:
            hand = None
        self._worker.submit((message.header.stamp, hand))

    def _on_silence_check(self) -> None:
        arrival = self._last_arrival_ns
        if arrival is None or self._silence_reported:
            return
        now = self.get_clock().now()
        if (now.nanoseconds - arrival) * 1e-9 >= self._settings.lost_timeout_s:
            self._silence_reported = True
            self._worker.submit((now.to_msg(), None))

    def _process(self, item: _Item) -> None:
        """Worker thread: pose, solve and publish one frameset."""
        stamp, hand = item
        side = self._settings.hand_side
        joints = None if hand is None else self._mano(side, hand)
        with self._lock:
            targets = self._stream.update(conv.time_to_ns(stamp), joints)
        message = JointState(header=Header(stamp=stamp, frame_id=""))
        message.name = list(self._retargeter.joint_names)
        message.position = targets.positions.tolist()
        self._publisher.publish(message)

    def _on_diagnostics(self) -> None:
        with self._lock:
            stats = self._stream.stats()
        work = self._worker.stats()
        level = "ok" if stats.state == "tracking" else "warn"
        message = {
            "tracking": "tracking the hand",
            "held": "hand lost: holding the last targets",
            "open": "no hand: open pose",
        }[stats.state]
        values = {
            "hand side": self._settings.hand_side,
            "robot joints": len(self._retargeter.joint_names),
            "solve time median (ms)": 1e3 * stats.median_solve_time_s,
            "solve time max (ms)": 1e3 * stats.max_solve_time_s,
            "residual (mm)": 1e3 * stats.last_residual_m,
            "framesets solved": stats.solved,
            "framesets without the hand": stats.lost,
            "framesets skipped (a newer one came)": work.dropped,
            "solves failed": work.failed,
            "bad hand/mano messages": self._bad_messages,
        }
        if work.failed:
            level, message = "error", f"{work.failed} solve(s) failed (see the log)"
        name = self.get_fully_qualified_name().lstrip("/")
        status = conv.diagnostic_status(f"{name}: retarget", level, message, name, values)
        head = Header(stamp=self.get_clock().now().to_msg())  # diagnostics describe "now"
        self._diagnostics.publish(DiagnosticArray(header=head, status=[status]))

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        changes = {p.name: p.value for p in parameters if p.name in self._values}
        for name, value in changes.items():
            definition = retarget_params.PARAMETERS_BY_NAME[name]
            if not definition.dynamic and value != self._values.get(name):
                reason = f"parameter {name!r} can only be set at start-up"
                return SetParametersResult(successful=False, reason=reason)
        merged = {**self._values, **changes}
        try:
            settings = retarget_params.retarget_settings(merged, _package_config())
        except parameter_table.ParameterError as error:
            return SetParametersResult(successful=False, reason=str(error))
        with self._lock:
            self._stream.lost_policy = settings.lost_policy
        self._values, self._settings = merged, settings
        return SetParametersResult(successful=True)

    def destroy_node(self) -> None:
        """Stop the worker (letting a running solve finish), then the node."""
        self._worker.stop()
        super().destroy_node()
        self._log_route.close()


def main(args: list[str] | None = None) -> int:
    """Entry point of ``hggt_retarget`` (``ros2 run hggt_ros hggt_retarget --ros-args ...``).

    Returns:
        0 after a normal shutdown, 1 when the node cannot start (the reason is logged).
    """
    return run_node(RetargetNode, retarget_params.NODE_NAME, args)


if __name__ == "__main__":
    sys.exit(main())
