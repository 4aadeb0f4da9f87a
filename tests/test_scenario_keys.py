"""Keys that used to be accepted and ignored, and worker idempotence's three values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import sim.scenario as scenario
from sim import cli
from sim.scenario import ScenarioError

BASE = """\
name: t
run: {duration: 1m}
producers:
  web:
    arrivals: {process: poisson, rate: 10}
    message: {key: {sequence: "k-"}}
    publish: orders
queues:
  orders: {}
workers:
  pool:
    consumes: orders
    service_time: 10ms
"""


def problems(text: str = BASE, **overrides: object) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario.loads(text, source="s.yaml", overrides=overrides or None)
    return [str(p) for p in info.value.problems]


def resolved(**overrides: object) -> dict:
    return scenario.loads(BASE, overrides=overrides or None).data


# --- message size: refused until the model uses it; headers are generators ----------------


def test_message_size_is_refused_with_its_path_and_line() -> None:
    text = BASE.replace('{key: {sequence: "k-"}}', '{key: {sequence: "k-"}, size: 104857600}')
    assert problems(text) == [
        "s.yaml:6: producers.web.message.size: a message size (size:) is not supported yet "
        "(the model does not use it yet: remove it)"
    ]
    # A size is a number of bytes: a string such as 100MB fails its own check first (as the
    # values of every not-yet-supported key are checked before the key is refused).
    text = BASE.replace('{key: {sequence: "k-"}}', '{key: {sequence: "k-"}, size: 100MB}')
    assert problems(text) == [
        "s.yaml:6: producers.web.message.size: size values must be a number of bytes >= 0, "
        "got '100MB'"
    ]


def test_message_size_as_a_number_is_refused_too() -> None:
    assert problems(**{"producers.web.message.size": 512}) == [
        "--set producers.web.message.size: a message size (size:) is not supported yet "
        "(the model does not use it yet: remove it)"
    ]


def test_message_headers_are_generators_now() -> None:
    data = resolved(**{"producers.web.message.headers": {"region": {"choice": ["eu", "us"]}}})
    assert data["producers"]["web"]["message"]["headers"] == {"region": {"choice": ["eu", "us"]}}
    lines = problems(**{"producers.web.message.headers": {"region": {"choise": ["eu"]}}})
    assert len(lines) == 1 and lines[0].startswith(
        "--set producers.web.message.headers.region: a value generator needs exactly one of")


def test_values_of_refused_fields_are_still_checked() -> None:
    assert problems(**{"producers.web.message.size": -1}) == [
        "--set producers.web.message.size: size values must be a number of bytes >= 0, got -1"
    ]


def test_null_size_and_headers_are_absent_ones() -> None:
    message = resolved(
        **{"producers.web.message.size": None, "producers.web.message.headers": None}
    )["producers"]["web"]["message"]
    assert message == {"key": {"sequence": "k-"}}


# --- overflow policies that need max_length ------------------------------------------------


@pytest.mark.parametrize("policy", ["block", "drop-head"])
def test_an_overflow_policy_without_max_length_is_an_error(policy: str) -> None:
    text = BASE.replace("orders: {}", f"orders: {{overflow: {policy}}}")
    assert problems(text) == [
        f"s.yaml:9: queues.orders.overflow: overflow: {policy} needs max_length (how many "
        "ready copies make the queue full); without it the queue is never full and the policy "
        "does nothing"
    ]
    null = BASE.replace("orders: {}", f"orders: {{overflow: {policy}, max_length: null}}")
    assert len(problems(null)) == 1
    bounded = BASE.replace("orders: {}", f"orders: {{overflow: {policy}, max_length: 5}}")
    assert scenario.loads(bounded).data["queues"]["orders"]["overflow"] == policy


def test_reject_publish_without_max_length_stays_valid() -> None:
    """It is the default, and every resolved scenario spells it out."""
    data = resolved(**{"queues.orders.overflow": "reject-publish"})
    assert data["queues"]["orders"] == {**data["queues"]["orders"], "max_length": None}


def test_overflow_block_without_max_length_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    assert cli.main(["validate", str(path), "--set", "queues.orders.overflow=block"]) == 2
    assert "--set queues.orders.overflow: overflow: block needs max_length" in (
        capsys.readouterr().err
    )


# --- idempotent: false, at_start (true), at_commit -------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, False), (False, False), (True, "at_start"), ("at_start", "at_start"),
     ("at_commit", "at_commit")],
)  # fmt: skip
def test_idempotent_resolves_to_false_at_start_or_at_commit(given: object, expected: object):
    overrides = {} if given is None else {"workers.pool.idempotent": given}
    value = resolved(**overrides)["workers"]["pool"]["idempotent"]
    assert value == expected and type(value) is type(expected)


def test_idempotent_from_yaml_text() -> None:
    for word, expected in (("true", "at_start"), ("at_commit", "at_commit"), ("no", False)):
        text = BASE.replace("service_time: 10ms", f"service_time: 10ms\n    idempotent: {word}")
        assert scenario.loads(text).data["workers"]["pool"]["idempotent"] == expected


@pytest.mark.parametrize(
    ("given", "tail"),
    [
        ("at-start", "got 'at-start'; did you mean 'at_start'?"),
        ("commit", "got 'commit'; did you mean 'at_commit'?"),
        ("none", "got 'none'"),
        (1, "got 1"),
        (None, "got null"),
    ],
)
def test_other_idempotent_values_are_errors(given: object, tail: str) -> None:
    lines = problems(**{"workers.pool.idempotent": given})
    assert lines == [
        "--set workers.pool.idempotent: must be false, at_start (a dedupe check when processing "
        "begins; true means the same) or at_commit (a unique constraint refuses the second "
        f"effect), {tail}"
    ]


def test_resolved_idempotence_loads_again_as_it_is() -> None:
    for value in (False, True, "at_commit"):
        sc = scenario.loads(BASE, overrides={"workers.pool.idempotent": value})
        again = scenario.loads(yaml.safe_dump(sc.data))
        assert again.data == sc.data
