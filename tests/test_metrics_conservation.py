"""The conservation checker catches broken summaries and inconsistent messages tables."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd

from sim.metrics import check_conservation, check_messages

STATE_NAMES = ("pending", "completed", "dead_lettered", "expired", "lost")


def totals(**changes):
    base = {
        "published": 4,
        "rejected": 0,
        "unroutable": 0,
        "enqueued": 4,
        "completed": 2,
        "dead_lettered": 1,
        "expired": 0,
        "lost": 0,
        "pending": 1,
        "deliveries": 5,
        "duplicate_deliveries": 2,
        "processings": 3,
        "duplicate_processing": 1,
        "duplicates_absorbed": 0,
    }
    base.update(changes)
    return base


REORDERING = {"reordered": 1, "reordered_ratio": 0.5, "inversions": 1, "max_displacement": 1}
GOOD = {
    "totals": totals(),
    "reordering": REORDERING,
    "queues": {"q": {"totals": totals(), "reordering": REORDERING, "max_depth": 2}},
    "workers": {"pool": {"utilization": 0.5, "crashes": 0, "mean_up": 1.0}},
    "producers": {"web": {"sent": 4, "errors": 0}},
}


def broken(path, value):
    summary = copy.deepcopy(GOOD)
    node = summary
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return summary


def test_good_summary_passes():
    assert check_conservation(GOOD) == []


def test_invariant_broken_in_total_and_per_queue():
    problems = check_conservation(broken(("totals", "pending"), 2))
    assert any(p.startswith("totals: enqueued = 4") for p in problems)
    # The queues no longer add up to the total either.
    assert any("queues add up" in p for p in problems)
    problems = check_conservation(broken(("queues", "q", "totals", "lost"), 1))
    assert any(p.startswith("queues.q.totals: enqueued") for p in problems)


def test_negative_and_missing_counts():
    problems = check_conservation(broken(("totals", "rejected"), -1))
    assert any("rejected = -1 is negative" in p for p in problems)
    summary = copy.deepcopy(GOOD)
    del summary["queues"]["q"]["totals"]["expired"]
    assert any("expired is missing" in p for p in check_conservation(summary))
    assert check_conservation(broken(("workers", "pool", "crashes"), -2)) != []
    assert check_conservation(broken(("producers", "web", "errors"), -1)) != []


def test_duplicates_must_be_consistent():
    problems = check_conservation(broken(("totals", "duplicate_processing"), 4))
    assert any("duplicate_processing = 4 exceeds processings = 3" in p for p in problems)
    # 5 deliveries with no duplicate means 5 distinct copies delivered, but only 4 exist.
    problems = check_conservation(broken(("totals", "duplicate_deliveries"), 0))
    assert any("5 copies delivered, only 4" in p for p in problems)


def test_reordering_bounds():
    assert check_conservation(broken(("reordering", "reordered_ratio"), 1.5)) != []
    assert check_conservation(broken(("reordering", "reordered"), 3)) != []


def frame(**overrides):
    """Two copies: one completed, one pending and never delivered."""
    data = {
        "id": np.array([0, 1], dtype=np.int64),
        "copy": np.array([0, 0], dtype=np.int16),
        "queue": pd.Categorical(["q", "q"]),
        "producer": pd.Categorical(["web", "web"]),
        "key": pd.Categorical([None, None]),
        "type": pd.Categorical([None, None]),
        "seq": np.array([0, 1], dtype=np.int64),
        "published_at": [0.0, 1.0],
        "accepted_at": [0.0, 1.0],
        "first_delivered_at": [0.5, math.nan],
        "completed_at": [0.8, math.nan],
        "deliveries": np.array([1, 0], dtype=np.int32),
        "processings": np.array([1, 0], dtype=np.int32),
        "absorbed": np.array([0, 0], dtype=np.int32),
        "worker": pd.Categorical(["pool/0", None]),
        "state": pd.Categorical(["completed", "pending"], categories=STATE_NAMES),
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_good_messages_pass():
    assert check_messages(frame()) == []
    assert check_messages(frame().iloc[:0]) == []


def test_bad_messages_are_reported():
    cases = {
        "completed without completed_at": {"completed_at": [math.nan, math.nan]},
        "completed_at but are not completed": {"completed_at": [0.8, 2.0]},
        "never processed": {"processings": np.array([0, 0], dtype=np.int32)},
        "disagree on delivered": {"deliveries": np.array([0, 0], dtype=np.int32)},
        "never reached a consumer": {"first_delivered_at": [math.nan, math.nan]},
        "unknown one": {"state": pd.Categorical(["completed", "gone"])},
        "delivered before they were published": {"first_delivered_at": [-1.0, math.nan]},
        "do not number seq": {"seq": np.array([0, 2], dtype=np.int64)},
        "processed more often than delivered": {"processings": np.array([2, 0], dtype=np.int32)},
    }
    for expected, change in cases.items():
        problems = check_messages(frame(**change))
        assert any(expected in p for p in problems), (expected, problems)


def test_a_consumer_groups_partitions_must_agree_with_its_log():
    log = copy.deepcopy(GOOD["queues"]["q"])
    log["lag"] = {"max": 3, "mean": 1.0}
    log["partitions"] = [
        {"owner": "w/0", "records": 3, "mean_lag": 0.5, "max_lag": 2},
        {"owner": None, "records": 1, "mean_lag": 0.5, "max_lag": 1},
    ]
    summary = copy.deepcopy(GOOD)
    summary["queues"]["q"] = log
    assert check_conservation(summary) == []
    bad = copy.deepcopy(summary)
    bad["queues"]["q"]["partitions"][1].update(records=2, mean_lag=1.5)
    bad["queues"]["q"]["lag"]["max"] = 4
    assert check_conservation(bad) == [
        "queues.q: its partitions hold 5 records, 4 copies enqueued",
        "queues.q.partitions[1]: mean_lag 1.5 outside [0, max_lag = 1]",
        "queues.q: lag.max 4 outside [largest partition's 2, their sum 3]",
    ]
