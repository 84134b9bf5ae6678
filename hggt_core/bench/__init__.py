# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmarks of the installed ``hggt bench`` command, and what ``bench/*.py`` share with it.

:mod:`~hggt_core.bench.latency` measures model latency per engine, precision, crop size and
view count (settings and the run), :mod:`~hggt_core.bench.measure` one engine's latencies,
peak memory and parity with torch, :mod:`~hggt_core.bench.report` the markdown tables and JSON
reports, :mod:`~hggt_core.bench.flops` the analytic FLOPs of one forward and the devices' peaks.

A top layer of the core, beside ``cli``: it uses the engines, the model, MANO and the pipeline;
nothing in the core below it imports it.
"""
