# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Multi-view synchroniser on synthetic, seeded stamp streams (no ROS)."""

from __future__ import annotations

import itertools
import logging
import math
import random
import threading
from collections.abc import Callable, Sequence

import pytest

from hggt_core.pipeline.sync import MultiViewSynchroniser
from hggt_core.pipeline.sync_types import SyncConfig, SyncedSet
from hggt_core.pipeline.types import NS_PER_S
from hggt_core.pipeline.types import seconds_to_ns as _ns

# A payload names the view and the nominal capture time as a tick of a 30 Hz clock (a 15 Hz
# camera's frame k is tick 2k), so members of one true frame share the tick.
Payload = tuple[str, int]
Message = tuple[int, str, Payload]
Emitted = list[tuple[int, SyncedSet[Payload]]]

CAMS4 = ("cam0", "cam1", "cam2", "cam3")
TICK_HZ = 30.0
START_NS = 1_700_000_000_123_456_789  # a realistic ROS epoch stamp, odd nanoseconds


def _stream(
    rates_hz: dict[str, float],
    duration_s: float,
    jitter_s: float = 0.003,
    seed: int = 0,
    start_ns: int = START_NS,
    skip: Callable[[str, int], bool] | None = None,
) -> list[Message]:
    """Per-view integer-nanosecond stamps at the given rates with uniform jitter, sorted."""
    rng = random.Random(seed)
    messages: list[Message] = []
    for view, rate_hz in rates_hz.items():
        for frame in range(round(duration_s * rate_hz)):
            if skip is not None and skip(view, frame):
                continue
            offset_s = frame / rate_hz + rng.uniform(-jitter_s, jitter_s)
            messages.append(
                (start_ns + _ns(offset_s), view, (view, round(frame * TICK_HZ / rate_hz)))
            )
    return sorted(messages)


def _feed(sync: MultiViewSynchroniser[Payload], messages: Sequence[Message]) -> Emitted:
    """Push every message; returns (stream clock at emission, set) pairs."""
    emitted: Emitted = []
    clock_ns = -1
    for stamp_ns, view, payload in messages:
        clock_ns = max(clock_ns, stamp_ns)
        emitted.extend((clock_ns, s) for s in sync.push(view, stamp_ns, payload))
    return emitted


def _frames(synced: SyncedSet[Payload]) -> set[int]:
    return {payload[1] for _, _, payload in synced.views}


def _check_invariants(emitted: Emitted, config: SyncConfig) -> None:
    references = [s.reference_stamp_ns for _, s in emitted]
    assert all(b > a for a, b in itertools.pairwise(references))
    for _, synced in emitted:
        stamps = [stamp for _, stamp, _ in synced.views]
        assert synced.spread_s == (max(stamps) - min(stamps)) / NS_PER_S
        assert synced.spread_s <= config.slop_s + 1e-9
        assert len(synced.views) >= config.min_cameras
        assert len(_frames(synced)) == 1, "a set mixes frames"
        for name, _, payload in synced.views:
            assert payload[0] == name


def _chunk_shuffle(messages: list[Message], chunk: int, seed: int) -> list[Message]:
    rng = random.Random(seed)
    shuffled: list[Message] = []
    for i in range(0, len(messages), chunk):
        block = messages[i : i + chunk]
        rng.shuffle(block)
        shuffled.extend(block)
    return shuffled


def test_jittered_cameras_give_complete_sets() -> None:
    config = SyncConfig(slop_s=0.02, max_wait_s=0.1, min_cameras=1, queue_size=8)
    sync = MultiViewSynchroniser[Payload](CAMS4, config)
    messages = _stream(dict.fromkeys(CAMS4, 30.0), duration_s=10.0)
    emitted = _feed(sync, messages)

    assert len(emitted) == 300
    _check_invariants(emitted, config)
    assert all(s.complete and s.names == CAMS4 for _, s in emitted)
    assert [min(_frames(s)) for _, s in emitted] == list(range(300))
    # The reference stamp is cam0's stamp, and each set is out as soon as it is complete.
    for clock_ns, synced in emitted:
        assert synced.reference_stamp_ns == synced.views[0][1]
        assert clock_ns == max(stamp for _, stamp, _ in synced.views)
    stats = sync.stats()
    assert (stats.emitted_sets, stats.emitted_partial, stats.resets) == (300, 0, 0)
    assert all(v.received == 300 and v.dropped_stale == 0 for v in stats.views)


def test_different_rates_with_all_views_required_emit_at_the_slow_rate() -> None:
    config = SyncConfig(min_cameras=2)
    sync = MultiViewSynchroniser[Payload](("fast", "slow"), config)
    emitted = _feed(sync, _stream({"fast": 30.0, "slow": 15.0}, duration_s=4.0))

    assert len(emitted) == 60
    _check_invariants(emitted, config)
    assert all(s.complete for _, s in emitted)
    assert [min(_frames(s)) for _, s in emitted] == list(range(0, 120, 2))
    # Odd fast frames have no partner and are dropped, never emitted.
    assert sync.stats().view("fast").dropped_stale >= 55


def test_different_rates_emit_partial_sets_after_max_wait() -> None:
    config = SyncConfig(slop_s=0.01, max_wait_s=0.02, min_cameras=1)
    sync = MultiViewSynchroniser[Payload](("fast", "slow"), config)
    emitted = _feed(sync, _stream({"fast": 30.0, "slow": 15.0}, duration_s=4.0))

    _check_invariants(emitted, config)
    complete = [s for _, s in emitted if s.complete]
    partial = [(clock_ns, s) for clock_ns, s in emitted if not s.complete]
    assert len(complete) == 60
    assert len(partial) == 59  # every odd fast frame; the last one never waited long enough
    for clock_ns, synced in partial:
        assert synced.missing == ("slow",) and synced.names == ("fast",)
        assert min(_frames(synced)) % 2 == 1
        assert clock_ns - synced.views[0][1] >= _ns(config.max_wait_s)
    stats = sync.stats()
    assert (stats.emitted_sets, stats.emitted_partial) == (119, 59)


def _never(view: str, frame: int) -> bool:
    return False


def _stop_and_return(view: str, frame: int) -> bool:
    return view == "cam3" and 100 <= frame < 200


def test_view_that_stops_gives_partial_sets_then_complete_ones_again() -> None:
    config = SyncConfig(slop_s=0.02, max_wait_s=0.1, min_cameras=3)
    sync = MultiViewSynchroniser[Payload](CAMS4, config)
    messages = _stream(dict.fromkeys(CAMS4, 30.0), duration_s=10.0, skip=_stop_and_return)
    emitted = _feed(sync, messages)

    _check_invariants(emitted, config)
    by_frame = {min(_frames(s)): (clock_ns, s) for clock_ns, s in emitted}
    assert all(by_frame[f][1].complete for f in range(100))
    assert all(by_frame[f][1].complete for f in range(200, 300))
    outage_frames = {f for f in range(100, 200) if f in by_frame}
    # Frames still waiting when cam3 returns (max_wait_s = 3 frames) are superseded by its
    # first complete set; whether frame 197 had waited long enough depends on the jitter.
    assert set(range(100, 197)) <= outage_frames <= set(range(100, 198))
    outage = [by_frame[f] for f in sorted(outage_frames)]
    for clock_ns, synced in outage:
        assert synced.missing == ("cam3",)
        assert synced.names == ("cam0", "cam1", "cam2")
        waited_s = (clock_ns - min(stamp for _, stamp, _ in synced.views)) / NS_PER_S
        assert config.max_wait_s <= waited_s < config.max_wait_s + 0.04


def test_poll_releases_a_partial_set_when_pushes_stop() -> None:
    config = SyncConfig(slop_s=0.02, max_wait_s=0.1, min_cameras=3)
    sync = MultiViewSynchroniser[str](CAMS4, config)
    for view, stamp_s in (("cam0", 5.000), ("cam1", 5.002), ("cam2", 4.999)):
        assert sync.push(view, _ns(stamp_s), view) == []
    assert sync.poll(_ns(5.05)) == []
    assert sync.poll(_ns(4.0)) == []  # an older clock changes nothing
    (synced,) = sync.poll(_ns(5.1))
    assert synced.missing == ("cam3",)
    assert [(name, payload) for name, _, payload in synced.views] == [
        ("cam0", "cam0"),
        ("cam1", "cam1"),
        ("cam2", "cam2"),
    ]
    assert synced.reference_stamp_ns == _ns(5.000)
    assert synced.spread_s == 0.003
    assert sync.poll(_ns(6.0)) == []  # released once only
    # cam3's late message for that frame belongs to the emitted frame: stale.
    assert sync.push("cam3", _ns(5.010), "cam3") == []
    assert sync.stats().view("cam3").dropped_stale == 1


def test_poll_after_a_gap_releases_every_waiting_set_oldest_first() -> None:
    sync = MultiViewSynchroniser[Payload](("a", "b", "c"), SyncConfig(min_cameras=2))
    messages = _stream({"a": 30.0, "b": 30.0}, duration_s=0.1, start_ns=20 * NS_PER_S)
    assert _feed(sync, messages) == []  # the newest stamp is not yet 0.1 s past frame 0
    released = sync.poll(_ns(20.5))
    assert [min(_frames(s)) for s in released] == [0, 1, 2]
    assert all(s.missing == ("c",) for s in released)


def test_a_set_completed_late_is_not_emitted_behind_a_newer_one() -> None:
    sync = MultiViewSynchroniser[str](("a", "b"))
    assert sync.push("a", _ns(1.000), "a0") == []
    assert sync.push("a", _ns(1.033), "a1") == []
    (newer,) = sync.push("b", _ns(1.034), "b1")
    assert newer.reference_stamp_ns == _ns(1.033)
    assert sync.push("b", _ns(1.001), "b0") == []  # older than the emitted set: stale
    assert sync.poll(_ns(5.0)) == []
    assert sync.stats().view("a").dropped_stale == 1
    assert sync.stats().view("b").dropped_stale == 1


@pytest.mark.parametrize("seed", range(12))
def test_random_streams_keep_the_invariants_and_account_for_every_message(seed: int) -> None:
    rng = random.Random(seed)
    views = CAMS4[: rng.randint(1, 4)]
    config = SyncConfig(
        slop_s=rng.choice([0.0, 0.005, 0.02, 0.05]),
        max_wait_s=rng.choice([0.0, 0.03, 0.1]),
        min_cameras=rng.randint(1, len(views)),
        queue_size=rng.randint(1, 8),
        reset_threshold_s=math.inf,
    )
    rates_hz = {view: rng.choice([10.0, 15.0, 30.0, 60.0]) for view in views}
    messages = _stream(rates_hz, duration_s=3.0, jitter_s=0.01, seed=seed)
    messages = _chunk_shuffle(messages, chunk=rng.randint(1, 6), seed=seed)
    messages += rng.sample(messages, k=len(messages) // 10)  # redelivered messages
    sync = MultiViewSynchroniser[Payload](views, config)
    emitted = [s for _, s in _feed(sync, messages)]
    emitted += sync.poll(START_NS + 10 * NS_PER_S)

    references = [s.reference_stamp_ns for s in emitted]
    assert all(b > a for a, b in itertools.pairwise(references))
    assert all(s.spread_s <= config.slop_s + 1e-9 for s in emitted)
    assert all(len(s.views) >= config.min_cameras for s in emitted)
    stats = sync.stats()
    assert stats.emitted_sets == len(emitted)
    for view_stats in stats.views:
        used = sum(view_stats.name in s.names for s in emitted)
        lost = view_stats.duplicates + view_stats.dropped_stale + view_stats.dropped_overflow
        assert view_stats.received == lost + view_stats.buffered + used
        assert view_stats.buffered <= config.queue_size


def test_poll_on_an_empty_synchroniser_and_below_min_cameras() -> None:
    sync = MultiViewSynchroniser[str](CAMS4, SyncConfig(min_cameras=2))
    assert sync.poll(_ns(1.0)) == []
    sync.push("cam0", _ns(1.0), "a")
    assert sync.poll(_ns(100.0)) == []  # one view is fewer than min_cameras


@pytest.mark.parametrize("skip", [_never, _stop_and_return], ids=["steady", "camera-outage"])
def test_reordering_within_a_small_window_gives_the_same_sets(
    skip: Callable[[str, int], bool],
) -> None:
    config = SyncConfig(slop_s=0.02, max_wait_s=0.1, min_cameras=2)
    messages = _stream(dict.fromkeys(CAMS4, 30.0), duration_s=10.0, seed=3, skip=skip)
    in_order = _feed(MultiViewSynchroniser[Payload](CAMS4, config), messages)
    # Blocks of 3 (fewer than the 4 views) move messages across frame boundaries.
    shuffled = _chunk_shuffle(messages, chunk=3, seed=7)
    assert shuffled != messages
    reordered = _feed(MultiViewSynchroniser[Payload](CAMS4, config), shuffled)
    assert [s for _, s in reordered] == [s for _, s in in_order]
    assert len(in_order) > 280


def test_duplicate_stamps_replace_the_payload() -> None:
    sync = MultiViewSynchroniser[str](("a", "b"), SyncConfig(slop_s=0.01))
    assert sync.push("a", _ns(1.0), "first") == []
    assert sync.push("a", _ns(1.0), "second") == []
    (synced,) = sync.push("b", _ns(1.002), "b")
    assert synced.views == (("a", _ns(1.0), "second"), ("b", _ns(1.002), "b"))
    # The same instant delivered again after its set went out is stale.
    assert sync.push("b", _ns(1.002), "again") == []
    stats = sync.stats()
    assert stats.view("a").duplicates == 1
    assert stats.view("b").dropped_stale == 1
    assert stats.view("a").received == 2 and stats.emitted_sets == 1


def test_epoch_stamps_stay_exact_to_the_nanosecond() -> None:
    # 100 ns apart at 1.7e9 s: one float64 value (its spacing there is 238 ns), two stamps.
    sync = MultiViewSynchroniser[str](("a", "b"), SyncConfig(slop_s=0.01))
    assert sync.push("a", START_NS, "first") == []
    assert sync.push("a", START_NS + 100, "second") == []
    (synced,) = sync.push("b", START_NS + 1_000_001, "b")
    assert synced.views == (("a", START_NS + 100, "second"), ("b", START_NS + 1_000_001, "b"))
    assert synced.reference_stamp_ns == START_NS + 100
    assert synced.spread_s == 0.000_999_901
    assert sync.stats().view("a").duplicates == 0


def test_backwards_clock_jump_resets_and_continues(caplog: pytest.LogCaptureFixture) -> None:
    config = SyncConfig()
    sync = MultiViewSynchroniser[Payload](CAMS4, config)
    first = _stream(dict.fromkeys(CAMS4, 30.0), duration_s=2.0, start_ns=500 * NS_PER_S)
    looped = _stream(dict.fromkeys(CAMS4, 30.0), duration_s=2.0, start_ns=10 * NS_PER_S, seed=1)
    before = _feed(sync, first)
    with caplog.at_level(logging.WARNING, logger="hggt_core.pipeline.sync"):
        after = _feed(sync, looped)

    assert len(before) == 60 and len(after) == 60
    _check_invariants(before, config)
    _check_invariants(after, config)
    assert all(s.complete for _, s in before + after)
    assert after[0][1].reference_stamp_s == pytest.approx(10.0, abs=0.004)
    assert sync.stats().resets == 1
    (record,) = caplog.records
    assert "jumped back" in record.getMessage() and record.levelno == logging.WARNING


def test_a_lagging_camera_is_stale_but_does_not_reset() -> None:
    config = SyncConfig(min_cameras=3)
    sync = MultiViewSynchroniser[Payload](CAMS4, config)
    on_time = _stream(dict.fromkeys(CAMS4[:3], 30.0), duration_s=3.0)
    two_ns = 2 * NS_PER_S
    late = [(s - two_ns, v, p) for s, v, p in _stream({"cam3": 30.0}, duration_s=3.0, seed=2)]
    emitted = _feed(sync, sorted(on_time + late, key=lambda m: m[0] + two_ns * (m[1] == "cam3")))

    _check_invariants(emitted, config)
    assert sync.stats().resets == 0
    assert len(emitted) >= 85
    assert all(s.missing == ("cam3",) for _, s in emitted)


def test_reference_view_and_its_fallback() -> None:
    config = SyncConfig(slop_s=0.01, max_wait_s=0.05, min_cameras=2)
    sync = MultiViewSynchroniser[str](("a", "b", "c"), config, reference_view="b")
    sync.push("a", _ns(1.000), "a")
    sync.push("b", _ns(1.004), "b")
    (complete,) = sync.push("c", _ns(1.002), "c")
    assert complete.reference_stamp_ns == _ns(1.004)
    assert complete.names == ("a", "b", "c")
    # Without b, the first present view in declaration order gives the stamp.
    sync.push("c", _ns(2.001), "c")
    sync.push("a", _ns(2.003), "a")
    (partial,) = sync.poll(_ns(2.06))
    assert partial.reference_stamp_ns == _ns(2.003)
    assert partial.missing == ("b",)
    assert partial.names == ("a", "c")


def test_memory_stays_bounded_over_10000_messages() -> None:
    config = SyncConfig(queue_size=5, min_cameras=4)
    sync = MultiViewSynchroniser[Payload](CAMS4, config)
    rng = random.Random(11)
    clock_ns = START_NS
    for i in range(10_000):
        # cam3 is silent, so with min_cameras = 4 nothing is ever emitted or consumed.
        view = CAMS4[i % 3]
        clock_ns += rng.randrange(20_000_000)
        stamp_ns = clock_ns - rng.randrange(50_000_000)  # out of order, sometimes duplicated
        assert sync.push(view, stamp_ns, (view, i)) == []
        assert all(v.buffered <= config.queue_size for v in sync.stats().views)
    stats = sync.stats()
    assert sum(v.received for v in stats.views) == 10_000
    for v in stats.views[:3]:
        dropped = v.duplicates + v.dropped_stale + v.dropped_overflow
        assert v.received == dropped + v.buffered
        assert v.buffered == config.queue_size


def test_overflow_drops_the_oldest() -> None:
    sync = MultiViewSynchroniser[int](("a", "b"), SyncConfig(queue_size=2, max_wait_s=10.0))
    for i in range(4):
        sync.push("a", i * NS_PER_S, i)
    (synced,) = sync.push("b", _ns(2.005), 99)
    assert synced.views[0] == ("a", 2 * NS_PER_S, 2)
    stats = sync.stats()
    assert stats.view("a").dropped_overflow == 2
    assert stats.view("a").buffered == 1  # stamp 3.0 is still waiting


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slop_s", -0.01),
        ("slop_s", math.nan),
        ("max_wait_s", -1.0),
        ("min_cameras", 0),
        ("min_cameras", 1.5),
        ("queue_size", 0),
        ("queue_size", True),
        ("reset_threshold_s", 0.0),
    ],
)
def test_invalid_config_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"SyncConfig\.{field} must be"):
        SyncConfig(**{field: value})  # type: ignore[arg-type]


def test_invalid_views_and_inputs_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        MultiViewSynchroniser[int]([])
    with pytest.raises(ValueError, match="unique"):
        MultiViewSynchroniser[int](["a", "a"])
    with pytest.raises(ValueError, match="min_cameras"):
        MultiViewSynchroniser[int](["a", "b"], SyncConfig(min_cameras=3))
    with pytest.raises(ValueError, match="reference_view 'z'"):
        MultiViewSynchroniser[int](["a", "b"], reference_view="z")
    sync = MultiViewSynchroniser[int](["a", "b"])
    with pytest.raises(ValueError, match="unknown view 'c'"):
        sync.push("c", NS_PER_S, 0)
    with pytest.raises(TypeError, match="view 'a': stamp_ns must be integer nanoseconds"):
        sync.push("a", 1.5, 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="poll: stamp_ns must be integer"):
        sync.poll(math.nan)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no view 'c'"):
        sync.stats().view("c")


def test_reset_forgets_history() -> None:
    sync = MultiViewSynchroniser[int](("a", "b"))
    sync.push("a", _ns(5.0), 0)
    assert len(sync.push("b", _ns(5.0), 0)) == 1
    sync.reset()
    assert sync.push("a", _ns(4.0), 1) == []  # older than the emitted set, yet accepted
    assert len(sync.push("b", _ns(4.001), 1)) == 1
    assert sync.stats().resets == 0


def test_concurrent_pushes_from_several_threads() -> None:
    config = SyncConfig(queue_size=64, max_wait_s=1.0)
    sync = MultiViewSynchroniser[Payload](CAMS4, config)
    messages = _stream(dict.fromkeys(CAMS4, 30.0), duration_s=5.0, jitter_s=0.0)
    results: list[SyncedSet[Payload]] = []
    lock = threading.Lock()

    def worker(view: str) -> None:
        for stamp_ns, v, payload in messages:
            if v == view:
                ready = sync.push(v, stamp_ns, payload)
                with lock:
                    results.extend(ready)

    threads = [threading.Thread(target=worker, args=(view,)) for view in CAMS4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stats = sync.stats()
    assert sum(v.received for v in stats.views) == len(messages)
    assert stats.emitted_sets == len(results) > 0
    references = sorted(s.reference_stamp_ns for s in results)
    assert len(set(references)) == len(references)
    assert all(len(_frames(s)) == 1 and s.spread_s == 0.0 for s in results)
