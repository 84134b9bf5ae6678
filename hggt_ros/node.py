# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``hggt_node``: N cameras in; MANO, joints, markers, camera TF and diagnostics out.

A thin adapter (docs/DESIGN.md, decision 1): parameters map onto the core's settings in
:mod:`hggt_ros.params`, messages become arrays and back in :mod:`hggt_ros.conversions`, and
the core does the rest. Threads: subscription callbacks decode and synchronise (cheap, on the
executor); a timer releases framesets whose wait ran out, so a stopped camera never stalls
the node; inference and publishing run on the latest-wins worker (:mod:`hggt_ros.worker`).
Every output header carries the frameset's reference stamp, exact to the nanosecond (never
``now()``), and the optical frame of the hand's reference camera.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from dataclasses import dataclass
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseArray
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, JointState
from std_msgs.msg import Header
from std_srvs.srv import Trigger
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import MarkerArray

from hggt_core.assembly.factory import build_pipeline
from hggt_core.geometry.distortion import LensDistortion
from hggt_core.io import ros_schema
from hggt_core.io.camera_info import CameraInfoError
from hggt_core.io.image_encoding import ImageEncodingError
from hggt_core.io.output_plan import OutputConfig, output_topics, plan_outputs
from hggt_core.io.ros_schema import TransformSpec
from hggt_core.pipeline.filters import HandFilter
from hggt_core.pipeline.sync import MultiViewSynchroniser
from hggt_core.pipeline.sync_types import SyncedSet
from hggt_core.pipeline.types import FloatArray, FrameSet, HandResult, ImageArray, View
from hggt_ros import conversions as conv
from hggt_ros import health, parameter_table, params
from hggt_ros.camera_frames import CameraFrames
from hggt_ros.log_bridge import CoreLogRoute
from hggt_ros.node_support import declare, run_node
from hggt_ros.worker import CameraMonitor, LatestWinsWorker
from hggt_ros.world_frame import KnownCameras, WorldFrame, WorldOutcome, world_health

_THROTTLE_S = 5.0
_MESSAGE_TYPES: dict[str, type] = {
    "sensor_msgs/msg/JointState": JointState,
    "geometry_msgs/msg/PoseArray": PoseArray,
    "visualization_msgs/msg/MarkerArray": MarkerArray,
    "tf2_msgs/msg/TFMessage": TFMessage,
}
"""Output message type names (:func:`~hggt_core.io.output_plan.output_topics`) -> classes."""


@dataclass(frozen=True)
class _Frame:
    """A decoded image as buffered by the synchroniser (which keeps its stamp)."""

    frame_id: str
    image: ImageArray
    intrinsics: FloatArray | None
    distortion: LensDistortion | None = None


class HggtNode(Node):
    """Multi-view hand reconstruction (topics: README; parameters: config/hggt.yaml).

    Args:
        **kwargs: passed to :class:`rclpy.node.Node` (e.g. ``parameter_overrides``).

    Raises:
        ParameterError: invalid parameters (the node refuses to start).
        ParameterException: a parameter of the wrong type (rclpy's check).
        CheckpointError, ManoFileError, ImportError: unusable model files or detector.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("hggt_node", **kwargs)
        # First, so that what the core logs while the pipeline is built reaches the ROS log.
        self._log_route = CoreLogRoute(self.get_logger())
        try:
            self._start()
        except BaseException:
            self._log_route.close()
            raise

    def _start(self) -> None:
        self._refuse_renamed_parameters()
        self._values = {d.name: declare(self, d) for d in parameter_table.PARAMETERS}
        self._settings = s = params.settings_from_parameters(self._values)
        self._pipeline = build_pipeline(s.pipeline)
        predictor = self._pipeline.predictor
        left = predictor.mano_left or predictor.mano_right
        self._faces = {"right": predictor.mano_right.faces.numpy(), "left": left.faces.numpy()}
        topics = zip(s.cameras.names, s.cameras.image_topics, strict=True)
        self._cameras = [CameraMonitor(name, topic) for name, topic in topics]
        self._sync: MultiViewSynchroniser[_Frame] = MultiViewSynchroniser(s.cameras.names, s.sync)
        self._filter = None if s.filter is None else HandFilter(s.filter)
        self._newest: tuple[int, int] | None = None  # (stamp ns, node clock ns at arrival)
        self._last_accepted_s = -float("inf")
        self._rate_limited = 0
        self._last: health.FramesetOutcome | None = None
        self._outputs = health.OutputMonitor()
        self._create_publishers()
        self._start_robot_side()
        self._worker: LatestWinsWorker[SyncedSet[_Frame]] = LatestWinsWorker(self._process)
        self._worker.start()
        self._subscribe()
        self.create_timer(s.poll_period_s, self._on_poll)
        self.create_timer(s.diagnostics_period_s, self._on_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.get_logger().info(
            f"cameras {list(s.cameras.image_topics)}; model: {self._pipeline.model_source}; "
            f"MANO: {self._pipeline.mano_source}; {self._pipeline.engine} on {s.pipeline.device}"
        )

    def _create_publishers(self) -> None:
        # Relative output names (hand/mano, ...): a namespace (namespace:=rig) moves them with
        # the node; the root namespace gives /hand/mano. /tf, /tf_static and /diagnostics stay
        # absolute: tf2 listeners and diagnostic aggregators read only those, and rigs stay
        # apart there by frame prefixes and the node's qualified name.
        # Every topic of the output plan (its switches may change at run time).
        self._pubs = {
            spec.topic: self.create_publisher(
                _MESSAGE_TYPES[spec.msgtype],
                spec.topic if spec.topic == ros_schema.TF_TOPIC else spec.topic.lstrip("/"),
                QoSProfile(depth=spec.depth, reliability=QoSReliabilityPolicy.RELIABLE),
            )
            for spec in output_topics(OutputConfig())
        }
        self._pub_markers = self._pubs[ros_schema.MARKERS_TOPIC]
        self._pub_tf = self._pubs[ros_schema.TF_TOPIC]
        latched = QoSProfile(depth=1, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
        self._pub_tf_static = self.create_publisher(TFMessage, "/tf_static", latched)
        self._pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)

    def _start_robot_side(self) -> None:
        """Known cameras (file, TF), the anchor, steady camera frames, the reset service."""
        s, f = self._settings, self._settings.frames
        self._frames = CameraFrames(f.steady, f.filter_cameras, f.anchor, self._publish_static)
        own = (s.output.camera_prefix, str(self._values["frames.hand_prefix"]))
        self._world = None if s.calibration is None else WorldFrame(s.calibration, own)
        self._world_outcome: WorldOutcome | None = None
        self._world_seen = False  # steady frames hang from the world once it was reached
        if self._world is not None and self._world.uses_tf:
            # What tf2_ros' listener subscribes with: reliable, depth 100, /tf_static latched.
            latched, volatile = QoSDurabilityPolicy.TRANSIENT_LOCAL, QoSDurabilityPolicy.VOLATILE
            for topic, durability in (("/tf_static", latched), ("/tf", volatile)):
                callback = functools.partial(self._on_tf, static=durability == latched)
                qos = QoSProfile(depth=100, durability=durability)
                self.create_subscription(TFMessage, topic, callback, qos)
        # Private (~/): it acts on this node alone, so two nodes in a namespace never clash.
        self.create_service(Trigger, "~/reset_cameras", self._on_reset_cameras)
        if f.reference is not None:  # known now; static transforms are timeless
            self._frames.set_reference(f.reference, self.get_clock().now().nanoseconds)

    def _refuse_renamed_parameters(self) -> None:
        """Stop on a former parameter name (declared only to see whether it was set)."""
        for old, new in parameter_table.RENAMED_PARAMETERS.items():
            descriptor = ParameterDescriptor(dynamic_typing=True, description=f"now {new}")
            value = self.declare_parameter(old, None, descriptor).value
            self.undeclare_parameter(old)
            if value is not None:
                raise parameter_table.ParameterError(
                    f"parameter '{old}' was renamed to '{new}': rename it in your parameters"
                )

    def _subscribe(self) -> None:
        c = self._settings.cameras
        best_effort = QoSReliabilityPolicy.BEST_EFFORT  # sensor-data QoS, with our depth
        reliability = QoSReliabilityPolicy.RELIABLE if c.reliable else best_effort
        qos = QoSProfile(depth=c.qos_depth, reliability=reliability)
        image_type = CompressedImage if c.compressed else Image
        for index, camera in enumerate(self._cameras):
            image_callback = functools.partial(self._on_image, index)
            self.create_subscription(image_type, camera.topic, image_callback, qos)
            if c.info_topics is not None:
                info_callback = functools.partial(self._on_info, index)
                self.create_subscription(CameraInfo, c.info_topics[index], info_callback, qos)

    def _on_info(self, index: int, message: CameraInfo) -> None:
        camera = self._cameras[index]
        try:
            camera.intrinsics = conv.camera_info_calibration(message)
        except CameraInfoError as error:  # refused: estimated intrinsics beat a wrong lens
            camera.intrinsics = None
            self._bad_input(camera, f"{error}; camera treated as uncalibrated")

    def _on_image(self, index: int, message: Image | CompressedImage) -> None:
        camera = self._cameras[index]
        now_ns = self.get_clock().now().nanoseconds
        camera.rate.record(now_ns * 1e-9)
        try:
            if isinstance(message, CompressedImage):
                rgb = conv.compressed_to_rgb(message)
            else:
                rgb = conv.image_to_rgb(message)
        except ImageEncodingError as error:
            self._bad_input(camera, f"image dropped: {error}")
            return
        size, intrinsics, distortion = (rgb.shape[1], rgb.shape[0]), None, None
        calibration = camera.intrinsics
        if calibration is not None:
            if calibration.size != size:
                self._bad_input(camera, f"camera_info is for {calibration.size}, image is {size}")
            else:
                intrinsics, distortion = calibration.intrinsics, calibration.distortion
        camera.frame_id = message.header.frame_id or camera.name
        stamp_ns = conv.time_to_ns(message.header.stamp)
        if self._newest is None or stamp_ns >= self._newest[0]:
            self._newest = (stamp_ns, now_ns)
        frame = _Frame(camera.frame_id, rgb, intrinsics, distortion)
        self._submit(self._sync.push(camera.name, stamp_ns, frame))

    def _bad_input(self, camera: CameraMonitor, problem: str) -> None:
        camera.problem(problem)
        self.get_logger().warning(
            f"camera {camera.name} ({camera.topic}): {problem}", throttle_duration_sec=_THROTTLE_S
        )

    def _on_poll(self) -> None:
        # The stream clock runs on with the node clock from the newest image's arrival, so
        # waits run out even when the stamps are on another clock (e.g. a replayed bag).
        if self._newest is not None:
            stamp_ns, arrival_ns = self._newest
            elapsed_ns = max(self.get_clock().now().nanoseconds - arrival_ns, 0)
            self._submit(self._sync.poll(stamp_ns + elapsed_ns))

    def _submit(self, ready: list[SyncedSet[_Frame]]) -> None:
        if not ready:
            return
        synced = ready[-1]  # latest wins: older ready sets are stale already
        gap_s = synced.reference_stamp_s - self._last_accepted_s
        if 0 <= gap_s < self._settings.min_period_s:  # < 0: the clock jumped back
            self._rate_limited += 1
            return
        self._last_accepted_s = synced.reference_stamp_s
        self._worker.submit(synced)

    def _process(self, synced: SyncedSet[_Frame]) -> None:
        """Worker thread: inference and publishing of one frameset."""
        frame_ids = self._frame_ids(synced)
        known = None if self._world is None else self._world.known_cameras(frame_ids)
        poses = {} if known is None else known.poses()
        views = tuple(
            View(name, t, f.image, f.intrinsics, f.distortion, poses.get(name))
            for name, t, f in synced.views
        )
        frameset = FrameSet(synced.reference_stamp_ns, views)
        results = self._pipeline.predictor(frameset)
        hand_filter = self._filter
        if hand_filter is not None:
            results = [hand_filter(result) for result in results]
        world = self._express(results, known)
        output = self._settings.output
        if output.markers is not None and self._pub_markers.get_subscription_count() == 0:
            # The mesh marker is the costliest message by far: skip it while nobody listens.
            output = dataclasses.replace(output, markers=None)
        plan = plan_outputs(
            frameset, world.results, frame_ids, output, self._faces, world_frame=world.world_frame
        )
        out = conv.frameset_messages(plan)
        if out.mano is not None:
            self._pubs[ros_schema.MANO_TOPIC].publish(out.mano)
        for side, poses in out.joints.items():
            self._pubs[ros_schema.joints_topic(side)].publish(poses)
        if out.markers is not None:
            self._pub_markers.publish(out.markers)
        home = self._world.world_frame if self._world and self._world_seen else None
        self._publish_tf(out, plan.stamp_ns, home or frame_ids[self._cameras[0].name])
        now_ns = self.get_clock().now().nanoseconds
        self._outputs.record(now_ns * 1e-9, synced.reference_stamp_s)
        tracker = self._tracker_state()
        self._last = health.FramesetOutcome(synced, len(world.results), tracker)

    def _frame_ids(self, synced: SyncedSet[_Frame]) -> dict[str, str]:
        """Camera name -> optical frame id; camera 0's anchors the anchor frame."""
        frame_ids = {camera.name: camera.frame_id for camera in self._cameras}
        frame_ids.update({name: frame.frame_id for name, _, frame in synced.views})
        reference = self._cameras[0].name
        if self._settings.frames.reference is not None:
            frame_ids[reference] = self._settings.frames.reference
        elif reference in synced.names:  # its images' header.frame_id is known now
            self._frames.set_reference(frame_ids[reference], synced.reference_stamp_ns)
        return frame_ids

    def _express(self, results: list[HandResult], known: KnownCameras | None) -> WorldOutcome:
        """The hands in the world frame when known cameras allow it (else unchanged)."""
        if self._world is None or known is None:
            return WorldOutcome(results, None, None, (), "")
        outcome = self._world_outcome = self._world.express(results, known)
        if outcome.problem:
            self.get_logger().warning(
                f"hands stay in the camera frame: {outcome.problem}",
                throttle_duration_sec=_THROTTLE_S,
            )
        self._world_seen = self._world_seen or outcome.world_frame is not None
        return outcome

    def _tracker_state(self) -> str:
        """The predictor's tracker state; "off" names the parameter that chose no tracker."""
        state = self._pipeline.predictor.tracker_state
        if state == "off":
            return f"off (localiser.mode {self._settings.pipeline.localiser})"
        return state

    def _publish_tf(self, out: conv.FramesetMessages, stamp_ns: int, home_frame: str) -> None:
        """Cameras on /tf (steady ones filtered, converged fixed ones on /tf_static); hands."""
        update = self._frames.update(out.cameras, home_frame, stamp_ns)
        for line in update.log_lines(home_frame):
            self.get_logger().info(line)
        stamp = conv.ns_to_time(stamp_ns)
        transforms = [conv.transform_stamped(spec, stamp) for spec in update.dynamic]
        if transforms or out.hand_frames:
            self._pub_tf.publish(TFMessage(transforms=transforms + out.hand_frames))

    def _publish_static(self, specs: list[TransformSpec]) -> None:
        """The node's whole static list (anchor, frozen cameras): /tf_static keeps one message."""
        transforms = [conv.transform_stamped(s, conv.ns_to_time(s.stamp_ns)) for s in specs]
        self._pub_tf_static.publish(TFMessage(transforms=transforms))

    def _on_tf(self, message: TFMessage, static: bool) -> None:
        world = self._world
        refused = [] if world is None else world.add_message(message, static)
        if refused:
            self.get_logger().warning(
                f"TF transform ignored: {refused[0]}", throttle_duration_sec=_THROTTLE_S
            )

    def _on_reset_cameras(
        self, request: Trigger.Request, response: Trigger.Response
    ) -> Trigger.Response:
        """``~/reset_cameras``: re-estimate the steady camera frames, restart the hand filter."""
        forgotten = self._frames.reset()
        if self._settings.filter is not None:
            self._filter = HandFilter(self._settings.filter)  # the worker takes it next frameset
        response.success = True
        response.message = f"camera frames re-estimated ({forgotten} were fixed), filter reset"
        self.get_logger().info(response.message)
        return response

    def _on_diagnostics(self) -> None:
        now = self.get_clock().now()
        s, sync = self._settings, self._sync.stats()
        identity = {
            "engine": self._pipeline.engine,
            "device": s.pipeline.device,
            "precision": s.pipeline.precision,
            "model": self._pipeline.model_source,
            "mano": self._pipeline.mano_source,
        }
        outputs = self._outputs.stats(now.nanoseconds * 1e-9)
        work = health.pipeline_health(
            self._worker.stats(), sync, self._last, outputs, self._rate_limited,
            self._pipeline.trained, identity,
        )  # fmt: skip
        if self._world is not None:
            work = world_health(work, self._world_outcome, self._world.world_frame)
        # /diagnostics is global: the qualified name ("rig/hggt_node") tells rigs apart.
        name = self.get_fully_qualified_name().lstrip("/")
        statuses = [_status(f"{name}: pipeline", s.pipeline.device, work)]
        for camera in self._cameras:
            state = camera.health(now.nanoseconds * 1e-9, s.stale_after_s, sync.view(camera.name))
            statuses.append(_status(f"{name}: camera {camera.name}", camera.topic, state))
        head = Header(stamp=now.to_msg())  # diagnostics describe "now", not a frameset
        self._pub_diagnostics.publish(DiagnosticArray(header=head, status=statuses))

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        changes = {p.name: p.value for p in parameters if p.name in self._values}
        try:
            values, settings = params.updated_parameters(self._values, changes)
        except parameter_table.ParameterError as error:
            return SetParametersResult(successful=False, reason=str(error))
        if settings.sync != self._settings.sync:
            self._sync = MultiViewSynchroniser(settings.cameras.names, settings.sync)
            self.get_logger().info(f"sync settings now {settings.sync}; buffers restarted")
        if settings.filter != self._settings.filter:
            self._filter = None if settings.filter is None else HandFilter(settings.filter)
        self._values, self._settings = values, settings
        return SetParametersResult(successful=True)

    def destroy_node(self) -> None:
        """Stop the worker (letting a running inference finish), then the node."""
        self._worker.stop()
        self._pipeline.predictor.close()
        super().destroy_node()
        self._log_route.close()


def _status(name: str, hardware_id: str, status: health.Health) -> DiagnosticStatus:
    return conv.diagnostic_status(name, status.level, status.message, hardware_id, status.values)


def main(args: list[str] | None = None) -> int:
    """Entry point of ``hggt_node`` (``ros2 run hggt_ros hggt_node --ros-args ...``).

    Returns:
        0 after a normal shutdown, 1 when the node cannot start (the reason is logged).
    """
    return run_node(HggtNode, "hggt_node", args)


if __name__ == "__main__":
    sys.exit(main())
