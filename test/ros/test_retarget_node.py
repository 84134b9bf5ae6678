# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""hggt_retarget end to end over real DDS: a subprocess node, a /hand/mano publisher.

The node runs as ``python -m hggt_ros.retarget_node`` (what the ``hggt_retarget`` console
script calls) on a private ROS domain with the shipped DexPilot config for the LEAP V1 KAIZEN
hand of ``ghand``. The fixture publishes hands of the procedural MANO model (open, fist,
pinch), messages without the hand and a burst at 200 Hz, and checks the JointState stream:
exact stamps, the URDF's joint names, a closed fist, the lost-hand policies (switched at run
time), a node that keeps up (latest wins), and diagnostics with solve time and residual.

Skipped when rclpy or the retarget extra is missing; inside the ROS test environment
(HGGT_ROS_ENV, set by .ros-install/env.sh) a missing rclpy fails instead.
"""

from __future__ import annotations

import importlib
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hggt_core.io.ros_schema import mano_joint_names
from hggt_core.mano.fit_kinematics import ManoJointModel
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.retarget import demo_hands

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "retarget" / "ghand_right_dexpilot.yaml"
NONCE = uuid.uuid4().hex[:8]
NODE = f"hggt_retarget_{NONCE}"
INPUT, OUTPUT = f"/test_{NONCE}/hand/mano", f"/test_{NONCE}/robot/joint_states"
STARTUP_TIMEOUT_S = 40.0
FLEXION = {"index": ("id9", "id10", "id11"), "middle": ("id5", "id6", "id7"),
           "ring": ("id1", "id2", "id3")}  # fmt: skip


def _unavailable(message: str) -> None:
    if os.environ.get("HGGT_ROS_ENV"):
        pytest.fail(f"inside the ROS test environment (HGGT_ROS_ENV is set): {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def ros() -> None:
    pytest.importorskip("dex_retargeting", reason="the retarget extra is not installed")
    pytest.importorskip("ghand", reason="the retarget extra (ghand's URDF) is not installed")
    try:
        importlib.import_module("rclpy")
        importlib.import_module("sensor_msgs.msg")
    except Exception as error:
        _unavailable(f"rclpy not loadable ({error}): source .ros-install/env.sh first")


@pytest.fixture
def node_process(ros: None, tmp_path: Path, start_node: Any) -> int:
    """The node in a subprocess on a private domain; returns the domain."""
    params = tmp_path / "params.yaml"
    params.write_text(
        "/**:\n  ros__parameters:\n"
        f"    retarget.config: {CONFIG}\n"
        "    retarget.low_pass_alpha: 1.0\n"
        "    lost.policy: hold\n"
        "    lost.timeout_s: 0.4\n"
        "    diagnostics.period_s: 0.25\n"
    )
    remaps = [f"__node:={NODE}", f"hand/mano:={INPUT}", f"retarget/joint_states:={OUTPUT}"]
    ros_args = [arg for remap in remaps for arg in ("-r", remap)]
    return start_node("hggt_ros.retarget_node", [*ros_args, "--params-file", str(params)])[1]


class Fixture:
    """Publishes hand/mano, collects the joint states and the node's diagnostics."""

    def __init__(self, context: Any) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSProfile, QoSReliabilityPolicy
        from sensor_msgs.msg import JointState

        self.node = rclpy.create_node("retarget_test_fixture", context=context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        reliable = QoSProfile(depth=100, reliability=QoSReliabilityPolicy.RELIABLE)
        self.publisher = self.node.create_publisher(JointState, INPUT, reliable)
        self.outputs: list[Any] = []
        self.subscription = self.node.create_subscription(
            JointState, OUTPUT, self.outputs.append, reliable
        )
        self.diagnostics: list[Any] = []
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._keep, 50)

    def _keep(self, message: Any) -> None:
        if any(status.name == f"{NODE}: retarget" for status in message.status):
            self.diagnostics.append(message)

    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.01)
        return done()

    def send(self, stamp_ns: int, theta: np.ndarray | None, side: str = "right") -> None:
        from sensor_msgs.msg import JointState

        message = JointState()
        message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 10**9)
        message.header.frame_id = "cam0_optical_frame"
        if theta is not None:
            message.name = mano_joint_names(side)
            message.position = [*map(float, theta), *[0.0] * 10, 0.0, 0.0, 0.5, 0.95]
        self.publisher.publish(message)

    def output(self, stamp_ns: int) -> Any:
        """The output stamped ``stamp_ns``, waiting for it."""
        self.spin_until(lambda: stamp_ns in self.stamps(), 10.0)
        return next(m for m in self.outputs if _ns(m.header.stamp) == stamp_ns)

    def stamps(self) -> list[int]:
        return [_ns(message.header.stamp) for message in self.outputs]

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def _ns(stamp: Any) -> int:
    return int(stamp.sec) * 10**9 + int(stamp.nanosec)


def _set_parameter(fixture: Fixture, name: str, value: Any) -> Any:
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter

    client = fixture.node.create_client(SetParameters, f"/{NODE}/set_parameters")
    assert client.wait_for_service(timeout_sec=5.0)
    future = client.call_async(
        SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
    )
    assert fixture.spin_until(future.done, 5.0)
    return future.result().results[0]


def test_retarget_node_over_dds(node_process: int) -> None:
    import rclpy
    import rclpy.context

    model = ManoJointModel(ManoLayer(make_synthetic_mano("right")))
    context = rclpy.context.Context()
    rclpy.init(context=context, domain_id=node_process)
    fixture = Fixture(context)
    try:
        started = fixture.spin_until(
            lambda: (
                fixture.subscription.get_publisher_count() > 0
                and fixture.publisher.get_subscription_count() > 0
            ),
            STARTUP_TIMEOUT_S,
        )
        assert started, "the node did not start"
        base = 1_700_000_000_000_000_007  # odd nanoseconds: stamps must be copied exactly
        fixture.send(base, demo_hands.open_hand(model))
        open_state = fixture.output(base)
        names = list(open_state.name)
        assert sorted(names) == sorted(f"id{k}" for k in range(16))  # the URDF's joints
        assert open_state.header.frame_id == ""
        for step in range(1, 4):  # a few frames of the fist, as a camera would send
            fixture.send(base + step * 33_000_000, demo_hands.fist(model))
        fist = dict(zip(names, fixture.output(base + 3 * 33_000_000).position, strict=True))
        for finger, joints in FLEXION.items():
            assert sum(fist[j] for j in joints) < -2.2, finger

        held_ns = base + 4 * 33_000_000
        fixture.send(held_ns, None)  # a frameset without a hand: hold
        np.testing.assert_allclose(fixture.output(held_ns).position, list(fist.values()))
        fixture.send(held_ns + 1, demo_hands.open_hand(model), side="left")  # not our side
        np.testing.assert_allclose(fixture.output(held_ns + 1).position, list(fist.values()))
        assert _set_parameter(fixture, "lost.policy", "open").successful
        assert not _set_parameter(fixture, "hand.side", "left").successful  # start-up only
        open_ns = held_ns + 2
        fixture.send(open_ns, None)
        np.testing.assert_allclose(fixture.output(open_ns).position, np.zeros(16))

        # Silence: after lost.timeout_s the policy applies once more, stamped by the node.
        count = len(fixture.outputs)
        fixture.spin_until(lambda: len(fixture.outputs) > count, 3.0)
        assert len(fixture.outputs) == count + 1
        np.testing.assert_allclose(fixture.outputs[-1].position, np.zeros(16))

        # A burst at 200 Hz: the node skips to the newest hand and never falls behind.
        burst = [base + 10**9 + k * 5_000_000 for k in range(40)]
        pinch = demo_hands.pinch(model)
        sent_s = time.monotonic()
        for stamp_ns in burst:
            fixture.send(stamp_ns, pinch)
            fixture.executor.spin_once(timeout_sec=0.0)
            time.sleep(0.005)
        fixture.output(burst[-1])
        lag_s = time.monotonic() - sent_s - 0.2
        assert set(fixture.stamps()) <= {*fixture.stamps()[: count + 1], *burst}
        assert fixture.spin_until(lambda: len(fixture.diagnostics) > 3, 5.0)
        status = next(s for s in fixture.diagnostics[-1].status if s.name == f"{NODE}: retarget")
        values = {kv.key: kv.value for kv in status.values}
    finally:
        fixture.close()
        rclpy.shutdown(context=context)
    assert status.level == b"\x00" and status.message == "tracking the hand"
    assert float(values["solve time median (ms)"]) < 20.0
    assert 0.0 < float(values["residual (mm)"]) < 50.0
    assert int(values["framesets solved"]) >= 5 and values["solves failed"] == "0"
    received_burst = sum(stamp in burst for stamp in fixture.stamps())
    print(f"burst: {received_burst}/40 solved, last output {1e3 * lag_s:.0f} ms after the "
          f"last input; node median solve {values['solve time median (ms)']} ms")  # fmt: skip
