"""Routing: where a published message goes, as one strategy per exchange.

A route answers ``route(message) -> queues`` and is chosen when the model is built, so the
publish path never compares strings to decide what kind of routing applies:

- `ToQueues`: a fixed set of queues. ``publish: QUEUE`` is the default direct exchange (the
  "direct worker queue" of the notes); a retry goes back to just the queues that refused.
- `Republish`: the retry of a publish an exchange routed, through the exchange again.
- `DirectExchange`: the queues whose binding key equals the message's routing key.
- `FanoutExchange`: every bound queue (publish/subscribe: each subscriber has its own queue).
- `TopicExchange`: dotted routing keys matched against binding patterns, ``*`` one word and
  ``#`` zero or more (RabbitMQ's topic exchange); answers are cached per routing key.
- `HeadersExchange`: ``match`` against the message's headers, ``x_match: all`` or ``any``.
- `CustomExchange`: a user's ``callable(message, queues) -> queue names``.

An exchange counts the publishes no binding matched (``unroutable``); those go to its
``alternate`` queue when it has one (``to_alternate``), else they are dropped. A queue reached
by several bindings gets one copy, as in RabbitMQ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.model.contracts import Hub, Target
    from sim.model.message import Message

_CACHE_LIMIT = 1 << 16  # routing keys remembered by a topic exchange before it starts over


class RoutingError(Exception):
    """A custom router failed or answered with something that is not a queue it may use.

    ``path`` is the YAML path of the router (``("exchanges", NAME, "function")``): `sim.run`
    reports it as a problem of the scenario (the command line's exit 2).
    """

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        super().__init__(path, message)  # (both in args: it pickles back from a worker process)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{'.'.join(self.path)}: {self.message}"


class ToQueues:
    """A fixed set of queues (the default direct exchange of a queue)."""

    needs_key = False
    had = None  # (see Republish)

    def __init__(self, queues: Sequence[Target], broker: Hub) -> None:
        self.fixed = self.queues = tuple(queues)
        self.broker = broker
        self.name = ",".join(q.name for q in self.queues)

    def route(self, message: Message) -> Sequence[Target]:
        return self.queues

    def republish(self, had: frozenset[Target]) -> ToQueues:
        return self  # (a refused publish to a queue is retried to the refusing queues)


class Exchange:
    """What every exchange shares: its counts and its alternate queue."""

    needs_key = True  # whether a publisher must give messages a routing key
    fixed = None  # the queues of a route that does not depend on the message (ToQueues)
    had = None  # (see Republish)

    def __init__(self, name: str, broker: Hub, alternate: Target | None) -> None:
        self.name = name
        self.broker = broker
        self._alternate: tuple[Target, ...] = () if alternate is None else (alternate,)
        self.routed = 0  # publishes that matched at least one binding
        self.unroutable = 0  # publishes no binding matched
        self.to_alternate = 0  # of those, the ones sent to the alternate queue

    def route(self, message: Message) -> Sequence[Target]:
        queues = self.match(message)
        if queues:
            self.routed += 1
            return queues
        self.unroutable += 1
        if self._alternate:
            self.to_alternate += 1
        return self._alternate

    def match(self, message: Message) -> Sequence[Target]:
        raise NotImplementedError

    def republish(self, had: frozenset[Target]) -> Republish:
        """The route of this publish again, after a refusal (see `Republish`)."""
        return Republish(self, had)

    def counters(self) -> dict[str, int]:
        return {
            "routed": self.routed,
            "unroutable": self.unroutable,
            "to_alternate": self.to_alternate,
            "dropped": self.unroutable - self.to_alternate,
        }


class Republish:
    """A publish an exchange routed, retried after a queue refused it: the client republishes
    the whole message through the exchange (RabbitMQ nacks the publish, not a queue's copy), so
    it is routed again and every queue it reaches gets a copy, including those that took one
    before. ``had`` holds those: a copy one of them takes again is a duplicate (counted in the
    queue's ``republished``)."""

    fixed = None

    def __init__(self, exchange: Exchange, had: frozenset[Target]) -> None:
        self.exchange = exchange
        self.had = had
        self.broker = exchange.broker
        self.needs_key = exchange.needs_key
        self.name = exchange.name

    def route(self, message: Message) -> Sequence[Target]:
        return self.exchange.route(message)  # (the exchange counts the republish as a publish)

    def republish(self, had: frozenset[Target]) -> Republish:
        return Republish(self.exchange, had)


def _unique(queues: list[Target]) -> tuple[Target, ...]:
    """The queues in first-seen order, each once (one copy per queue)."""
    return tuple(dict.fromkeys(queues))


class DirectExchange(Exchange):
    """To every queue whose binding key equals the routing key."""

    def __init__(self, name: str, broker: Hub, alternate: Target | None,
                 bindings: list[tuple[Target, str]]) -> None:
        super().__init__(name, broker, alternate)
        grouped: dict[str, list[Target]] = {}
        for queue, key in bindings:
            grouped.setdefault(key, []).append(queue)
        self.by_key = {key: _unique(queues) for key, queues in grouped.items()}

    def match(self, message: Message) -> Sequence[Target]:
        return self.by_key.get(message.routing_key or "", ())


class FanoutExchange(Exchange):
    """To every bound queue; the routing key is ignored."""

    needs_key = False

    def __init__(self, name: str, broker: Hub, alternate: Target | None,
                 queues: list[Target]) -> None:
        super().__init__(name, broker, alternate)
        self.queues = _unique(queues)

    def match(self, message: Message) -> Sequence[Target]:
        return self.queues


def topic_matches(pattern: str, routing_key: str) -> bool:
    """Whether a topic binding pattern matches a routing key (both dotted words).

    ``*`` stands for exactly one word, ``#`` for zero or more; the empty key has no words.
    """
    return _match_words(_words(pattern), _words(routing_key), 0, 0)


def _words(dotted: str) -> list[str]:
    return dotted.split(".") if dotted else []


def _match_words(pattern: list[str], key: list[str], i: int, j: int) -> bool:
    while i < len(pattern):
        word = pattern[i]
        if word == "#":
            if i == len(pattern) - 1:
                return True  # a trailing # takes every word left
            return any(_match_words(pattern, key, i + 1, k) for k in range(j, len(key) + 1))
        if j >= len(key) or (word != "*" and word != key[j]):
            return False
        i += 1
        j += 1
    return j == len(key)


class TopicExchange(Exchange):
    """Dotted routing keys against binding patterns (``*`` one word, ``#`` zero or more)."""

    def __init__(self, name: str, broker: Hub, alternate: Target | None,
                 bindings: list[tuple[Target, str]]) -> None:
        super().__init__(name, broker, alternate)
        self.bindings = [(queue, _words(pattern)) for queue, pattern in bindings]
        self._cache: dict[str, tuple[Target, ...]] = {}

    def match(self, message: Message) -> Sequence[Target]:
        key = message.routing_key or ""
        queues = self._cache.get(key)
        if queues is None:
            words = _words(key)
            queues = _unique([q for q, pattern in self.bindings
                              if _match_words(pattern, words, 0, 0)])
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = queues
        return queues


def headers_match(match: dict[str, Any], x_match: str, headers: dict[str, Any] | None) -> bool:
    """RabbitMQ's headers binding: ``all`` pairs equal (an empty match takes everything), or
    ``any`` of them. Values compare as text, so ``region: 1`` matches a header ``"1"``."""
    given = headers or {}
    hits = (k in given and str(given[k]) == str(v) for k, v in match.items())
    return all(hits) if x_match == "all" else any(hits)


class HeadersExchange(Exchange):
    """``match`` against the message's headers, ``x_match: all`` or ``any`` per binding."""

    needs_key = False

    def __init__(self, name: str, broker: Hub, alternate: Target | None,
                 bindings: list[tuple[Target, dict[str, Any], str]]) -> None:
        super().__init__(name, broker, alternate)
        self.bindings = bindings

    def match(self, message: Message) -> Sequence[Target]:
        headers = message.headers
        return _unique([q for q, match, x_match in self.bindings
                        if headers_match(match, x_match, headers)])


class CustomExchange(Exchange):
    """A user's router: ``function(message, queues) -> list of queue names``.

    ``message`` is a plain dict (id, key, type, priority, headers, routing_key, flow,
    producer) and ``queues`` the names of the queues it may choose from (its bound queues, or
    without bindings every queue on its broker).
    A router that raises, or names a queue it may not use, stops the run with a
    `RoutingError`.
    """

    def __init__(self, name: str, broker: Hub, alternate: Target | None,
                 function: Callable[..., Any], queues: list[Target],
                 describe: Callable[[Message], dict[str, Any]]) -> None:
        super().__init__(name, broker, alternate)
        self.function = function
        self.by_name = {q.name: q for q in queues}
        self.names = list(self.by_name)
        self.describe = describe
        self.path = ("exchanges", name, "function")

    def match(self, message: Message) -> Sequence[Target]:
        try:
            answer = self.function(self.describe(message), list(self.names))
        except Exception as error:  # the user's code: report it as theirs
            raise RoutingError(
                self.path, f"the router raised {type(error).__name__}: {error}"
            ) from error
        if answer is None:
            return ()
        if isinstance(answer, str) or not isinstance(answer, list | tuple | set | frozenset):
            raise RoutingError(
                self.path, f"the router must return a list of queue names, got {answer!r}"
            )
        queues = []
        for name in answer:
            queue = self.by_name.get(name) if isinstance(name, str) else None
            if queue is None:
                known = ", ".join(self.names)
                raise RoutingError(
                    self.path, f"the router returned {name!r}, not a queue it may use "
                    f"(known: {known})"
                )
            queues.append(queue)
        return _unique(queues)
