"""Building routes from the scenario's specs: exchanges, and publishers' routing keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.model.routing import (
    CustomExchange,
    DirectExchange,
    Exchange,
    FanoutExchange,
    HeadersExchange,
    TopicExchange,
)
from sim.scenario import custom_code

if TYPE_CHECKING:
    from sim.model.contracts import Hub, Target
    from sim.model.message import Message
    from sim.records import Records
    from sim.scenario.specs import ExchangeSpec


def make_exchange(
    name: str,
    spec: ExchangeSpec,
    queues: Mapping[str, Target],
    brokers: Mapping[str, Hub],
    records: Records,
) -> Exchange:
    """The routing strategy of one exchange (`sim.model.routing`)."""
    broker = brokers[spec.broker]
    alternate = queues[spec.alternate] if spec.alternate else None
    bindings = spec.bindings
    kind = spec.type
    if kind == "fanout":
        return FanoutExchange(name, broker, alternate, [queues[b.queue] for b in bindings])
    if kind == "direct":
        return DirectExchange(
            name, broker, alternate, [(queues[b.queue], _given(b.key)) for b in bindings]
        )
    if kind == "topic":
        return TopicExchange(
            name, broker, alternate, [(queues[b.queue], _given(b.key)) for b in bindings]
        )
    if kind == "headers":
        return HeadersExchange(
            name, broker, alternate,
            [(queues[b.queue], dict(b.match or {}), _given(b.x_match)) for b in bindings],
        )
    if spec.function is None:
        raise ValueError(f"exchanges.{name}: a custom exchange needs its function")
    function, _ = custom_code.load(spec.function, Path("/"))
    # Bound queues (in binding order, once each), or without bindings every queue of its broker.
    bound = dict.fromkeys(b.queue for b in bindings)
    reachable = ([queues[q] for q in bound] if bound
                 else [q for q in queues.values() if q.broker is broker])
    return CustomExchange(name, broker, alternate, function, reachable, describer(records))


def _given(value: str | None) -> str:
    """A binding's field that its exchange's type requires (`ExchangeSpec.of` checked it)."""
    assert value is not None
    return value


def describer(records: Records) -> Callable[[Message], dict[str, Any]]:
    """What a custom router sees of a message: its fields by name, as the scenario wrote them."""
    keys, types, producers = records.keys.values, records.types.values, records.producers.values

    def describe(message: Message) -> dict[str, Any]:
        return {
            "id": message.id,
            "key": keys[message.key] if message.key >= 0 else None,
            "type": types[message.type] if message.type >= 0 else None,
            "priority": message.priority,
            "headers": dict(message.headers or {}),
            "routing_key": message.routing_key,
            "flow": message.flow,
            "producer": producers[message.producer] if message.producer >= 0 else None,
        }

    return describe


def routing_key_function(
    template: str | None, records: Records, publisher: str
) -> Callable[[Message], str]:
    """A publisher's routing key: ``template`` filled from the message's fields (``type``,
    ``key``, ``priority``, ``producer``, ``headers[name]``), or the message type by default
    (the empty key when it has none)."""
    keys, types = records.keys.values, records.types.values
    if template is None:
        return lambda message: str(types[message.type]) if message.type >= 0 else ""

    def routing_key(message: Message) -> str:
        return template.format_map({
            "type": types[message.type] if message.type >= 0 else "",
            "key": keys[message.key] if message.key >= 0 else "",
            "priority": message.priority,
            "producer": publisher,
            "headers": _Headers(message.headers or {}),
        })

    return routing_key


class _Headers(dict[str, Any]):
    """Headers in a template: a missing one reads as the empty string."""

    def __missing__(self, key: str) -> str:
        return ""
