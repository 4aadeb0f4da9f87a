"""Broker presets: the agreed defaults, a source for each, and docs/presets.md made from them."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.presets as presets
from sim.presets import MECHANISM_KEYS, PRESET_KEYS, PRESETS, QUEUE_DEFAULTS, SOURCES, TYPES
from sim.scenario.mechanisms import preset

DOCS = Path(__file__).resolve().parents[1] / "docs" / "presets.md"

# The defaults agreed for issue 3 (the resolved format's preset table), key by key, in order:
# ideal, rabbitmq, sqs, sqs-fifo, kafka (issue 8), postgres, redis, in-process.
UNIFORM_3_7_MS = {"dist": "uniform", "low": 0.003, "high": 0.007}
AGREED: dict[str, tuple[object, ...]] = {
    "delivery": ("push", "push", "pull", "pull", "pull", "pull", "push", "push"),
    "prefetch_on_auto_ack": (True, False, True, True, True, True, True, True),
    "publish_latency": (0, 0.0005, 0.010, 0.010, 0.005, 0.001, 0.001, 0),
    "deliver_latency": (0, 0.0005, 0, 0, 0, 0, 0.001, 0),
    "api_latency": (0, 0, 0.010, 0.010, 0.005, 0.001, 0, 0),
    "batch_size": (1, 1, 10, 10, 1, 1, 1, 1),
    "wait_time": (0, 0, 20, 20, 0.5, 0, 0, 0),
    "poll_interval": (0, 0, 0, 0, 0, 1, 0, 0),
    "notify": (False,) * 8,
    "notify_latency": (0, 0, 0, 0, 0, 0.001, 0, 0),
    "redelivery": (
        "on_disconnect", "on_disconnect", "visibility_timeout", "visibility_timeout", "none",
        "lease", "visibility_timeout", "none",
    ),
    "claim": (None, None, None, None, None, "lease", None, None),
    "disconnect_latency": (0, UNIFORM_3_7_MS, 0, 0, 0, 0, 0, 0),
    "heartbeat": (0, 60, 0, 0, 0, 0, 0, 0),
    "visibility_timeout": (None, None, 30, 30, None, None, 3600, None),
    "restore_interval": (None, None, None, None, None, None, 100, None),
    "lock_timeout": (None, None, None, None, None, 4 * 3600, None, None),
    "requeue": (
        "original", "original", "tail", "head", "original", "original", "head", "original",
    ),
    "dedup_window": (None, None, None, 300, None, None, None, None),
    "durable": (True, True, True, True, True, True, True, False),
    "embedded": (False, False, False, False, False, False, False, True),
    "capacity": (None,) * 8,
    "prefetch_multiplier": (None, None, None, None, None, None, 4, None),
}  # fmt: skip


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_presets_hold_the_agreed_defaults(key: str) -> None:
    assert tuple(PRESETS[kind][key] for kind in TYPES) == AGREED[key]


def test_every_preset_has_every_key_and_nothing_else() -> None:
    assert set(AGREED) == set(PRESET_KEYS)
    for kind in TYPES:
        assert list(PRESETS[kind]) == list(PRESET_KEYS), kind
    assert [QUEUE_DEFAULTS[kind]["ordering"] for kind in TYPES] == [
        "fifo", "fifo", "fifo", "per-key", "fifo", "fifo", "fifo", "fifo",
    ]  # fmt: skip


def test_every_default_has_a_source_that_fits_in_a_table_cell() -> None:
    for kind in TYPES:
        assert set(SOURCES[kind]) == set(PRESET_KEYS), kind
        for key, source in SOURCES[kind].items():
            assert source.strip() and "|" not in source and "\n" not in source, (kind, key)


def test_the_sources_cite_the_documents_the_numbers_come_from() -> None:
    assert "Heartbeats" in SOURCES["rabbitmq"]["heartbeat"]
    assert "60 s" in SOURCES["rabbitmq"]["heartbeat"]
    assert "visibility timeout" in SOURCES["sqs"]["visibility_timeout"]
    assert "20 s" in SOURCES["sqs"]["wait_time"]
    assert "MaxNumberOfMessages" in SOURCES["sqs-fifo"]["batch_size"]
    assert "5-minute" in SOURCES["sqs-fifo"]["dedup_window"]
    assert "1 hour" in SOURCES["redis"]["visibility_timeout"]
    assert "worker_prefetch_multiplier" in SOURCES["redis"]["prefetch_multiplier"]
    assert "100 s" in SOURCES["redis"]["restore_interval"]
    assert "4 hours" in SOURCES["postgres"]["lock_timeout"]
    assert "(measured)" in SOURCES["rabbitmq"]["disconnect_latency"]
    assert "max.poll.records: default 500" in presets.KAFKA_SOURCES["max_poll_records"]
    assert "45000 ms" in presets.KAFKA_SOURCES["session_timeout"]
    assert "300000 ms" in presets.KAFKA_SOURCES["max_poll_interval"]
    assert "auto.commit.interval.ms: default 5000 ms" in presets.KAFKA_SOURCES["commit_interval"]
    assert "RangeAssignor" in presets.KAFKA_SOURCES["assignment"]
    assert "pollingInterval, default 30 s" in presets.AUTOSCALE_SOURCES["interval"]
    assert "cooldownPeriod, default 300 s" in presets.AUTOSCALE_SOURCES["cooldown"]


def test_kafka_and_autoscale_defaults_are_the_documented_ones() -> None:
    assert presets.KAFKA_DEFAULTS == {
        "session_timeout": 45.0, "commit": "auto", "commit_interval": 5.0,
        "max_poll_records": 500, "max_poll_interval": 300.0, "assignment": "range",
        "rebalance_time": 1.0,
    }  # fmt: skip
    assert presets.KAFKA_QUEUE_DEFAULTS == {"partitions": 1}
    assert presets.AUTOSCALE_DEFAULTS["interval"] == 30.0
    assert presets.AUTOSCALE_DEFAULTS["cooldown"] == 300.0


@pytest.mark.parametrize("kind", TYPES)
def test_every_preset_resolves_through_the_scenario_checks(kind: str) -> None:
    resolved = preset(kind)
    assert list(resolved) == list(PRESET_KEYS)
    assert resolved["publish_latency"]["dist"] == "constant"
    assert all(isinstance(resolved[k], dict) for k in ("api_latency", "disconnect_latency"))
    assert resolved is not preset(kind)  # a fresh copy each time: callers may keep it


def test_resolved_presets_convert_to_seconds_and_distributions() -> None:
    assert preset("rabbitmq")["disconnect_latency"] == UNIFORM_3_7_MS
    assert preset("rabbitmq")["publish_latency"] == {"dist": "constant", "value": 0.0005}
    assert preset("postgres")["lock_timeout"] == 14400.0
    assert preset("redis")["prefetch_multiplier"] == 4


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("heartbeat", 60.0, "60 s"),
        ("publish_latency", 0.0005, "0.5 ms"),
        ("visibility_timeout", 3600.0, "1 h"),
        ("dedup_window", 300.0, "5 min"),
        ("restore_interval", 100.0, "100 s"),
        ("wait_time", 0.0, "0"),
        ("batch_size", 10, "10"),
        ("visibility_timeout", None, "null"),
        ("notify", False, "false"),
        ("disconnect_latency", UNIFORM_3_7_MS, "uniform(low: 3 ms, high: 7 ms)"),
    ],
)
def test_values_are_shown_as_people_write_them(key: str, value: object, shown: str) -> None:
    assert presets.format_value(key, value) == shown


def test_the_table_has_a_row_per_key_and_a_section_per_type() -> None:
    table = presets.markdown_table()
    assert table.splitlines()[0] == "| key | " + " | ".join(TYPES) + " |"
    for key in MECHANISM_KEYS:
        assert f"| `{key}` |" in table
    for kind in TYPES:
        assert f"### `{kind}`: defaults and sources" in table
    assert "| `heartbeat` | 0 | 60 s | 0 | 0 | 0 | 0 | 0 | 0 |" in table


def test_docs_page_holds_exactly_the_generated_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert text.count(presets.BEGIN_MARK) == 1 and text.count(presets.END_MARK) == 1
    assert presets.generated_block() in text, (
        "docs/presets.md is out of date: run "
        "python -c \"import sim.presets; sim.presets.write_docs('docs/presets.md')\""
    )


def test_write_docs_replaces_only_the_generated_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"intro\n{presets.BEGIN_MARK}\nstale\n{presets.END_MARK}\noutro\n")
    presets.write_docs(page)
    text = page.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n")
    assert "stale" not in text and presets.generated_block() in text
