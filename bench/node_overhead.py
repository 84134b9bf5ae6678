# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-frameset overhead of the ROS node, model excluded (issue 4's target: < 2 ms, one core).

Usage (repository root, ROS test environment: ``. .ros-install/env.sh`` first)::

    python bench/node_overhead.py [--engine torch] [--framesets 300] [--warmup 10] [--views 4]
        [--size 640x480] [--rate 30] [--cpu N] [--json out.json]

It replays ``hggt_node``'s per-frameset work with the real code and real rclpy publishers and
times each stage (``time.perf_counter_ns``), summed over the views:

* ``take`` (outside the target, shown apart): rclpy deserialising each incoming rgb8
  ``sensor_msgs/Image`` from its CDR bytes, the executor's work before the callback.
* ``decode``: :func:`hggt_ros.conversions.image_to_rgb`.
* ``sync``: the callback's stamp bookkeeping and input-rate meter, and
  :meth:`~hggt_core.pipeline.sync.MultiViewSynchroniser.push` (the last releases the set).
* ``build``: :func:`hggt_ros.conversions.frameset_messages` and the ``/tf`` message.
* ``publish``: ``publish()`` of every output (serialisation happens here) on a private
  namespace, without and with an in-process subscriber (drained outside the timing).

The images and the hand come from ``--engine`` (:mod:`node_overhead_engines`): ``torch``, one
untimed crop-mode HGGT run on the demo views; ``landmarks``, the node's default landmark
pipeline on real crops, whose time per frameset is also measured, unpinned and then pinned to
the node's core (the table gives the overhead as a share of the pinned time). The hand is
re-stamped per frameset. ``--views`` cameras send at ``--rate`` Hz (stamps jittered by up to
2 ms), one frameset per period in real time (``--rate 0``: back to back). The process is
pinned to one CPU before rclpy starts (so the DDS threads share it) with one torch thread;
both are restored at the end. On a shared machine compare medians and rerun when the p95 is
far above them (the notes give the load average at the start and the end).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_common import write_header, write_report
from bench_ros import ImageFeed, Outputs
from node_overhead_engines import (
    ENGINES,
    MIN_LANDMARK_SIZE,
    EngineRun,
    engine_note,
    engine_report,
    run_engine,
)

from hggt_core.bench.latency import SEED
from hggt_core.bench.report import host_info, markdown_table
from hggt_core.pipeline.types import FrameSet, HandResult, View

TIMED_STAGES = ("decode", "sync", "build", "publish")
"""The stages of the issue's target, in the order they run."""
STAGES = ("take", *TIMED_STAGES)
"""Every reported stage (``take`` is outside the target)."""
TARGET_MS = 2.0
"""Issue 4's target: node overhead per frameset under 2 ms on one core."""
EXIT_NO_ROS = 2
JITTER_S = 0.002
"""Largest offset of a stamp from the camera's nominal 1 / rate grid (s)."""
EPOCH_NS = 1_766_000_000 * 10**9
"""Stamp of the first frameset (an epoch stamp, as cameras send)."""
_DRAIN_S = 1.0
_clock_ns = time.perf_counter_ns


@dataclass(frozen=True)
class Row:
    """One variant's per-frameset samples (milliseconds), warm-up excluded."""

    markers: bool
    subscriber: bool
    samples_ms: dict[str, list[float]]
    marker_bytes: int
    published: int
    received: int

    def totals_ms(self, with_take: bool) -> np.ndarray:
        """Per-frameset sum of the target's stages (and ``take`` when ``with_take``)."""
        stages = STAGES if with_take else TIMED_STAGES
        return np.sum([self.samples_ms[stage] for stage in stages], axis=0)

    @property
    def passes_target(self) -> bool:
        """Median total (without ``take``) under :data:`TARGET_MS`."""
        return bool(np.median(self.totals_ms(False)) < TARGET_MS)

    def as_json(self) -> dict[str, Any]:
        """The row as plain JSON types."""
        return {
            "markers": self.markers,
            "subscriber": self.subscriber,
            "framesets": len(self.samples_ms["decode"]),
            "stages_ms": {stage: _summary(self.samples_ms[stage]) for stage in STAGES},
            "total_ms": _summary(self.totals_ms(False)),
            "total_with_take_ms": _summary(self.totals_ms(True)),
            "passes_target": self.passes_target,
            "marker_bytes": self.marker_bytes,
            "published": self.published,
            "received": self.received,
        }


def _summary(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {
        "median": float(np.median(array)),
        "p95": float(np.percentile(array, 95)),
        "max": float(array.max()),
    }


def ros_unavailable() -> str | None:
    """Why rclpy, the message packages or tf2_msgs cannot be used here; None when they can."""
    try:
        import rclpy  # noqa: F401
        import tf2_msgs.msg

        type(tf2_msgs.msg.TFMessage).__import_type_support__()  # type: ignore[attr-defined]
        import hggt_ros.conversions  # noqa: F401
    except Exception as error:  # ImportError or rosidl's UnsupportedTypeSupport
        return (
            f"bench/node_overhead.py needs ROS 2 (rclpy and the message packages): {error}. Run "
            "tools/setup_ros_env.sh once, then `. .ros-install/env.sh` before starting Python."
        )
    return None


def stamps_ns(framesets: int, views: int, rate_hz: float) -> np.ndarray:
    """[framesets, views] integer-nanosecond stamps at ``rate_hz`` (30 Hz if 0), jittered."""
    period_ns = round(1e9 / (rate_hz or 30.0))
    jitter = np.random.default_rng(SEED).uniform(-JITTER_S, JITTER_S, (framesets, views))
    base = EPOCH_NS + period_ns * np.arange(framesets)[:, None]
    return base + np.round(jitter * 1e9).astype(np.int64)


@contextmanager
def one_core(cpu: int | None) -> Iterator[int]:
    """Pin this process to one CPU with one torch thread; both are restored afterwards."""
    affinity, threads = os.sched_getaffinity(0), torch.get_num_threads()
    chosen = min(affinity) if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    torch.set_num_threads(1)
    try:
        yield chosen
    finally:
        os.sched_setaffinity(0, affinity)
        torch.set_num_threads(threads)


@dataclass(frozen=True)
class Scenario:
    """What every variant replays: cameras, their messages and stamps, the hand."""

    names: list[str]
    feed: ImageFeed
    stamps_ns: np.ndarray
    hand: HandResult
    faces: dict[str, np.ndarray]
    rate_hz: float
    warmup: int


def run_variant(scenario: Scenario, outputs: Outputs, markers: bool) -> Row:
    """Replay every frameset with ``publish.markers`` = ``markers``; returns the samples."""
    from hggt_core.pipeline.sync import MultiViewSynchroniser
    from hggt_ros import params
    from hggt_ros.worker import RateMeter

    settings = params.settings_from_parameters(
        {"cameras.names": scenario.names, "publish.markers": markers}
    )
    synchroniser: MultiViewSynchroniser[tuple[str, np.ndarray]] = MultiViewSynchroniser(
        scenario.names, settings.sync
    )
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    published, received = outputs.published, outputs.received
    period_s = 1.0 / scenario.rate_hz if scenario.rate_hz > 0 else 0.0
    meters = [RateMeter() for _ in scenario.names]
    start_s, marker_size = time.perf_counter(), 0
    for index in range(len(scenario.stamps_ns)):
        due_s = start_s + index * period_s  # the frameset's arrival at --rate
        outputs.drain(due_s if period_s else time.perf_counter() + _DRAIN_S)
        time.sleep(max(0.0, due_s - time.perf_counter()))
        stage_ns, marker_size = _frameset(scenario, index, synchroniser, outputs, settings, meters)
        if index >= scenario.warmup:
            for stage, value in stage_ns.items():
                samples[stage].append(value * 1e-6)
    outputs.drain(time.perf_counter() + _DRAIN_S)
    return Row(markers, outputs.listening, samples, marker_size,
               outputs.published - published, outputs.received - received)  # fmt: skip


def _frameset(
    scenario: Scenario,
    index: int,
    synchroniser: Any,
    outputs: Outputs,
    settings: Any,
    meters: Sequence[Any],
) -> tuple[dict[str, int], int]:
    """One frameset through the node's code; stage -> nanoseconds, and the markers' bytes."""
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import Image

    from hggt_ros import conversions as conv

    spent = dict.fromkeys(STAGES, 0)
    clock, ready = outputs.node.get_clock(), []
    for view, name in enumerate(scenario.names):
        data = scenario.feed.serialised(view, int(scenario.stamps_ns[index, view]))
        t0 = _clock_ns()
        message = deserialize_message(data, Image)
        t1 = _clock_ns()
        rgb = conv.image_to_rgb(message)
        t2 = _clock_ns()
        meters[view].record(clock.now().nanoseconds * 1e-9)
        stamp_ns = conv.time_to_ns(message.header.stamp)
        frame = (message.header.frame_id or name, rgb)
        ready = synchroniser.push(name, stamp_ns, frame)
        t3 = _clock_ns()
        spent["take"] += t1 - t0
        spent["decode"] += t2 - t1
        spent["sync"] += t3 - t2
    if len(ready) != 1 or not ready[0].complete:
        raise RuntimeError(f"frameset {index}: the synchroniser did not release one full set")
    synced = ready[0]
    hand = dataclasses.replace(scenario.hand, stamp_ns=synced.reference_stamp_ns)  # "the model"
    views = tuple(View(name, stamp_ns, frame[1]) for name, stamp_ns, frame in synced.views)
    frameset = FrameSet(synced.reference_stamp_ns, views)
    t4 = _clock_ns()
    messages, tf = _build(conv, synced, frameset, hand, scenario.faces, settings)
    t5 = _clock_ns()
    outputs.publish(messages, tf)
    spent["build"], spent["publish"] = t5 - t4, _clock_ns() - t5
    return spent, len(messages.markers or b"")


def _build(
    conv: Any, synced: Any, frameset: FrameSet, hand: HandResult, faces: Any, settings: Any
) -> tuple[Any, Any]:
    """The node worker's message building (``HggtNode._process`` and ``_publish_tf``)."""
    from tf2_msgs.msg import TFMessage

    from hggt_core.io.output_plan import plan_outputs

    frame_ids = {name: frame[0] for name, _, frame in synced.views}
    plan = plan_outputs(frameset, [hand], frame_ids, settings.output, faces)
    messages = conv.frameset_messages(plan)
    stamp = conv.ns_to_time(plan.stamp_ns)
    transforms = [conv.transform_stamped(spec, stamp) for spec in messages.cameras]
    transforms += messages.hand_frames
    return messages, TFMessage(transforms=transforms) if transforms else None


def run_benchmark(args: argparse.Namespace, names: Sequence[str], run: EngineRun) -> list[Row]:
    """Every variant: (no subscriber, subscriber) x (markers on, off); progress to stderr."""
    import rclpy
    from rclpy.signals import SignalHandlerOptions

    feed = ImageFeed(run.images, [f"{name}_optical_frame" for name in names])
    stamps = stamps_ns(args.warmup + args.framesets, args.views, args.rate)
    scenario = Scenario(list(names), feed, stamps, run.hand, run.faces, args.rate, args.warmup)
    context = rclpy.Context()
    rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
    rows = []
    try:
        outputs = Outputs(context)
        try:
            for subscriber in (False, True):
                if subscriber:
                    outputs.listen()
                for markers in (True, False):
                    sys.stderr.write(f"  markers={markers} subscriber={subscriber} ...\n")
                    rows.append(run_variant(scenario, outputs, markers))
        finally:
            outputs.destroy()
    finally:
        rclpy.try_shutdown(context=context)
    return rows


def _cell(summary: dict[str, float]) -> str:
    return f"{summary['median']:.3f} ({summary['p95']:.3f})"


def format_table(rows: Sequence[Row], engine_ms: float | None = None) -> str:
    """A markdown table: median (p95) ms per frameset; with ``engine_ms``, total / engine time."""
    columns = ["markers", "subscriber", *(f"{stage} ms" for stage in STAGES)]
    columns += ["total ms", "total + take ms", f"< {TARGET_MS:g} ms"]
    columns += [] if engine_ms is None else ["total / engine"]
    body = []
    for row in rows:
        report = row.as_json()
        total_ms = report["total_ms"]["median"]
        share = [] if engine_ms is None else [f"{100 * total_ms / engine_ms:.1f} %"]
        body.append(
            ["on" if row.markers else "off", "yes" if row.subscriber else "no"]
            + [_cell(report["stages_ms"][stage]) for stage in STAGES]
            + [f"**{_cell(report['total_ms'])}**", _cell(report["total_with_take_ms"])]
            + ["PASS" if row.passes_target else "FAIL"]
            + share
        )
    return "\n".join(markdown_table(columns, body))


def environment(args: argparse.Namespace, cpu: int) -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "framesets": args.framesets, "warmup": args.warmup, "views": args.views,
        "size": f"{args.size[0]}x{args.size[1]}", "encoding": "rgb8", "rate_hz": args.rate,
        "engine": args.engine, "pinned_cpu": cpu, **host_info(),
        "rmw_implementation": os.environ.get("RMW_IMPLEMENTATION", "(default)"),
        "target_ms": TARGET_MS,
    }  # fmt: skip


NOTES = (
    f"median (p95) ms per frameset; target: total < {TARGET_MS:g} ms (median) on one core; "
    "total = decode + sync + build + publish (the issue's stages, model excluded).",
    "take = rclpy deserialising the incoming Images before the callback (outside the target).",
    "one right hand per frameset; the subscriber is in this process (drained between "
    "framesets, outside the timing).",
)


def engine_section(
    args: argparse.Namespace,
    info: dict[str, Any],
    rows: Sequence[Row],
    first: EngineRun,
    pinned: EngineRun | None,
) -> tuple[dict[str, Any], list[str]]:
    """The report's ``engine`` part (the load at the end; landmarks: its time) and the notes."""
    load_end = round(os.getloadavg()[0], 2)
    engine: dict[str, Any] = {"load_avg_1min_at_end": load_end}
    load = f"{info['load_avg_1min_at_start']} at the start, {load_end} at the end"
    notes = [*NOTES, f"load average (1 min): {load}, {info['cpu_count']} CPUs."]
    if pinned is not None:
        overhead_ms = [float(np.median(row.totals_ms(False))) for row in rows]
        engine |= engine_report(first, pinned, overhead_ms)
        notes.append(engine_note(engine, args.framesets))
    return engine, notes


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if min(size) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return size


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--engine", choices=ENGINES, default="torch", help="hand and images from")
    parser.add_argument("--framesets", type=int, default=300, help="timed framesets per row")
    parser.add_argument("--warmup", type=int, default=10, help="untimed framesets per row first")
    parser.add_argument("--views", type=int, default=4, help="cameras")
    parser.add_argument("--size", type=_size, default=(640, 480), help="WIDTHxHEIGHT pixels")
    parser.add_argument("--rate", type=float, default=30.0, help="framesets/s (0: back to back)")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin (default: lowest)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if args.framesets < 1 or args.views < 1 or args.warmup < 0 or args.rate < 0:
        parser.error("--framesets and --views must be >= 1, --warmup and --rate >= 0")
    if args.engine == "landmarks" and min(np.subtract(args.size, MIN_LANDMARK_SIZE)) < 0:
        parser.error(
            "--engine landmarks needs --size of at least {}x{}".format(*MIN_LANDMARK_SIZE)
        )
    if args.cpu is not None and args.cpu not in os.sched_getaffinity(0):
        parser.error(f"--cpu {args.cpu} is not one of {sorted(os.sched_getaffinity(0))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and write JSON); returns the exit code.

    Returns:
        0 after a run, 2 when ROS 2 is not available (the reason goes to stderr).
    """
    args = parse_args(argv)
    reason = ros_unavailable()
    if reason is not None:
        sys.stderr.write(reason + "\n")
        return EXIT_NO_ROS
    names = [f"cam{index}" for index in range(args.views)]
    run = functools.partial(run_engine, args.engine, names, args.size, args.warmup, args.framesets)
    first = run()  # before pinning: landmarks run as in the node, on every CPU
    with one_core(args.cpu) as cpu:
        pinned = run() if first.times_ms else None
        info = environment(args, cpu)
        write_header("node", info)
        rows = run_benchmark(args, names, first)
    engine, notes = engine_section(args, info, rows, first, pinned)
    table = format_table(rows, engine.get("engine_ms_pinned", {}).get("median"))
    write_report(table, notes, args.json, info, [row.as_json() for row in rows], engine=engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
