"""Broker presets (docs/presets.md): every default a broker type gives its queues,
and where each default comes from.

Plain data, written in the scenario's input form (durations as numbers of seconds,
distributions as ``{dist: ...}`` mappings), so the scenario layer resolves a preset exactly as
it resolves what a user writes. ``docs/presets.md`` is generated from this module
(``python -c "import sim.presets; sim.presets.write_docs('docs/presets.md')"``); a test keeps
the two equal, so the reference page never drifts from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The broker types the scenario layer resolves.
TYPES = ("ideal", "rabbitmq", "sqs", "sqs-fifo", "kafka", "postgres", "redis", "in-process")

# Keys set on the broker only (a queue inherits them through its broker).
BROKER_ONLY_KEYS = ("publish_latency", "deliver_latency", "capacity", "durable")

# Keys every queue resolves: its own value, else its broker's, else the preset's. `claim`
# (postgres only) is the user's word for `redelivery: lease|transaction`; a non-null
# `prefetch_multiplier` makes a consuming pool's default prefetch multiplier x concurrency.
MECHANISM_KEYS = (
    "delivery",
    "prefetch_on_auto_ack",
    "api_latency",
    "batch_size",
    "wait_time",
    "poll_interval",
    "notify",
    "notify_latency",
    "redelivery",
    "claim",
    "disconnect_latency",
    "heartbeat",
    "visibility_timeout",
    "restore_interval",
    "lock_timeout",
    "requeue",
    "dedup_window",
    "embedded",
    "prefetch_multiplier",
)
PRESET_KEYS = (*BROKER_ONLY_KEYS, *MECHANISM_KEYS)

# Keys whose numbers are counts, not durations (for the docs' formatting).
COUNT_KEYS = ("batch_size", "prefetch_multiplier", "max_poll_records", "partitions", "min")

_IDEAL: dict[str, Any] = {
    "publish_latency": 0.0,
    "deliver_latency": 0.0,
    "capacity": None,
    "durable": True,
    "delivery": "push",
    "prefetch_on_auto_ack": True,
    "api_latency": 0.0,
    "batch_size": 1,
    "wait_time": 0.0,
    "poll_interval": 0.0,
    "notify": False,
    "notify_latency": 0.0,
    "redelivery": "on_disconnect",
    "claim": None,
    "disconnect_latency": 0.0,
    "heartbeat": 0.0,
    "visibility_timeout": None,
    "restore_interval": None,
    "lock_timeout": None,
    "requeue": "original",
    "dedup_window": None,
    "embedded": False,
    "prefetch_multiplier": None,
}

_SQS: dict[str, Any] = {
    **_IDEAL,
    "publish_latency": 0.010,
    "delivery": "pull",
    "api_latency": 0.010,
    "batch_size": 10,
    "wait_time": 20.0,
    "redelivery": "visibility_timeout",
    "visibility_timeout": 30.0,
    "requeue": "tail",
}

PRESETS: dict[str, dict[str, Any]] = {
    "ideal": dict(_IDEAL),
    "rabbitmq": {
        **_IDEAL,
        "publish_latency": 0.0005,
        "deliver_latency": 0.0005,
        "prefetch_on_auto_ack": False,
        "disconnect_latency": {"dist": "uniform", "low": 0.003, "high": 0.007},
        "heartbeat": 60.0,
    },
    "sqs": dict(_SQS),
    "sqs-fifo": {**_SQS, "requeue": "head", "dedup_window": 300.0},
    "postgres": {
        **_IDEAL,
        "publish_latency": 0.001,
        "delivery": "pull",
        "api_latency": 0.001,
        "poll_interval": 1.0,
        "notify_latency": 0.001,
        "redelivery": "lease",
        "claim": "lease",
        "lock_timeout": 4 * 3600.0,
    },
    "redis": {
        **_IDEAL,
        "publish_latency": 0.001,
        "deliver_latency": 0.001,
        "redelivery": "visibility_timeout",
        "visibility_timeout": 3600.0,
        "restore_interval": 100.0,
        "requeue": "head",
        "prefetch_multiplier": 4,
    },
    "in-process": {**_IDEAL, "durable": False, "redelivery": "none", "embedded": True},
    # A kafka topic's consumers poll (api_latency: a fetch); redelivery is by offsets (the
    # keys below), so the queue mechanisms keep their neutral values.
    "kafka": {**_IDEAL, "publish_latency": 0.005, "delivery": "pull", "api_latency": 0.005,
              "wait_time": 0.5, "redelivery": "none"},
}

# Kafka's consumer-group keys (on a kafka broker, or per topic): every one resolved on kafka
# brokers and queues only. `partitions` is a queue key.
KAFKA_DEFAULTS: dict[str, Any] = {
    "session_timeout": 45.0,
    "commit": "auto",
    "commit_interval": 5.0,
    "max_poll_records": 500,
    "max_poll_interval": 300.0,
    "assignment": "range",
    "rebalance_time": 1.0,
}
KAFKA_QUEUE_DEFAULTS: dict[str, Any] = {"partitions": 1}

# A pool's `autoscale` (KEDA-style): the defaults of the keys a user may leave out.
AUTOSCALE_DEFAULTS: dict[str, Any] = {"min": 1, "interval": 30.0, "startup": 0.0,
                                      "cooldown": 300.0}

# Queue keys (not broker keys) whose default depends on the broker type.
QUEUE_DEFAULTS: dict[str, dict[str, Any]] = {
    kind: {"ordering": "per-key" if kind == "sqs-fifo" else "fifo"} for kind in TYPES
}

# --- sources ------------------------------------------------------------------------------

_SPEC = "mqsim's preset (docs/presets.md)"
_SPEC_IDEAL = "mqsim's preset (ideal: zero latency, push, never fails)"
_NEUTRAL = "not part of this preset's mechanism: the neutral value"
_SPEC_DURABLE = "mqsim: brokers are durable by default"
_SPEC_CAPACITY = "mqsim: no capacity limit unless one is set"
_RMQ_CONFIRMS = (
    'RabbitMQ docs "Consumer Acknowledgements and Publisher Confirms" '
    "(https://www.rabbitmq.com/docs/confirms)"
)
_SQS_GUIDE = "AWS SQS Developer Guide"
_SQS_FIFO_TERMS = (
    f'{_SQS_GUIDE} "Amazon SQS FIFO queue key terms" '
    "(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-key-terms.html)"
)
_KOMBU_REDIS = "kombu/transport/redis.py (github.com/celery/kombu)"
_CELERY_REDIS = (
    'Celery docs "Using Redis" '
    "(https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html)"
)


def _sources(default: str, **specific: str) -> dict[str, str]:
    """A source for every preset key: ``specific`` ones, else ``default``."""
    unknown = set(specific) - set(PRESET_KEYS)
    if unknown:  # a typo here would silently leave a key with the default source
        raise KeyError(f"no preset keys {sorted(unknown)}")
    return {key: specific.get(key, default) for key in PRESET_KEYS}


_SQS_SOURCES: dict[str, str] = {
    "publish_latency": f"{_SPEC}: ~10 ms per API call",
    "deliver_latency": f"{_SPEC}: a receive's cost is its api_latency",
    "capacity": _SPEC_CAPACITY,
    "durable": _SPEC_DURABLE,
    "delivery": (
        'AWS SQS API Reference "ReceiveMessage": consumers poll '
        "(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/"
        "API_ReceiveMessage.html)"
    ),
    "api_latency": f"{_SPEC}: ~10 ms per API call",
    "batch_size": (
        'AWS SQS API Reference "ReceiveMessage": MaxNumberOfMessages, valid values 1 to 10 '
        "(the preset takes the maximum; the API's default is 1)"
    ),
    "wait_time": (
        f'{_SQS_GUIDE} "Amazon SQS short and long polling" / "Setting-up long polling": the '
        "maximum long polling wait time is 20 s, recommended in most cases (a queue's own "
        "default, 0, is short polling)"
    ),
    "poll_interval": f"{_SPEC}: a long-polling consumer receives again at once",
    "redelivery": (
        f'{_SQS_GUIDE} "Amazon SQS visibility timeout" '
        "(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
        "sqs-visibility-timeout.html)"
    ),
    "visibility_timeout": (
        f'{_SQS_GUIDE} "Amazon SQS visibility timeout": default 30 s (0 s to 12 h); '
        'API Reference "ChangeMessageVisibility"'
    ),
    "restore_interval": f"{_SPEC}: a timed-out message is visible again at once",
    "requeue": (
        f'{_SQS_GUIDE} "Amazon SQS standard queues": best-effort ordering; '
        f'{_SPEC}: "anywhere (back)"'
    ),
}

SOURCES: dict[str, dict[str, str]] = {
    "ideal": _sources(
        _SPEC_IDEAL,
        redelivery=f"{_SPEC}: a failed consumer's messages come back at once",
        requeue=f"{_SPEC}: a returned message takes its original position",
    ),
    "rabbitmq": _sources(
        _NEUTRAL,
        publish_latency=f"{_SPEC}: publish ~0.5 ms",
        deliver_latency=f"{_SPEC}: deliver ~0.5 ms",
        capacity=_SPEC_CAPACITY,
        durable=_SPEC_DURABLE,
        delivery=(
            'RabbitMQ docs "Consumers": subscriptions (basic.consume) are pushed '
            "(https://www.rabbitmq.com/docs/consumers)"
        ),
        prefetch_on_auto_ack=(
            f"{_RMQ_CONFIRMS}, Acknowledgement Modes: with automatic acknowledgements there is "
            "no prefetch limit"
        ),
        redelivery=(
            f"{_RMQ_CONFIRMS}, Automatic Requeueing: unacknowledged deliveries are requeued "
            "when their channel or connection closes"
        ),
        disconnect_latency=f"{_SPEC} (measured): a crashed consumer's socket close is seen in "
        "3-7 ms on loopback",
        heartbeat=(
            'RabbitMQ docs "Detecting Dead TCP Connections with Heartbeats", Heartbeat Timeout '
            "Value: default 60 s (https://www.rabbitmq.com/docs/heartbeats)"
        ),
        requeue=(
            f"{_RMQ_CONFIRMS}, Negative Acknowledgement and Requeuing: a requeued message is "
            '"placed to its original position in its queue, if possible"'
        ),
    ),
    "sqs": _sources(_NEUTRAL, **_SQS_SOURCES),
    "sqs-fifo": _sources(
        _NEUTRAL,
        **{
            **_SQS_SOURCES,
            "requeue": (
                f"{_SQS_FIFO_TERMS}, Message group ID: a group's messages are processed one at "
                "a time, in strict order, so a returned message is next in its group"
            ),
            "dedup_window": (
                f"{_SQS_FIFO_TERMS}, Message deduplication ID: a 5-minute deduplication "
                "interval"
            ),
        },
    ),
    "postgres": _sources(
        _NEUTRAL,
        publish_latency=f"{_SPEC}: query and commit ~1 ms",
        deliver_latency=f"{_SPEC}: a claim's cost is its api_latency",
        capacity=_SPEC_CAPACITY,
        durable=_SPEC_DURABLE,
        delivery=(
            "solid_queue README (github.com/rails/solid_queue): workers poll with SELECT ... "
            "FOR UPDATE SKIP LOCKED in id order"
        ),
        api_latency=f"{_SPEC}: query and commit ~1 ms",
        poll_interval=(
            f"{_SPEC}: 1 s (cf. solid_queue README polling_interval: 1 s for dispatchers, "
            "0.1 s for workers; graphile-worker pollInterval 2 s)"
        ),
        notify=(
            f"{_SPEC}: LISTEN/NOTIFY is opt-in (graphile-worker docs, Introduction: uses "
            "LISTEN/NOTIFY to be informed of jobs as they are inserted)"
        ),
        notify_latency=f"{_SPEC} (measured): an insert wakes idle workers within ~1 ms",
        redelivery=(
            f"{_SPEC}: claim: lease by default, as graphile-worker and solid_queue mark a job "
            "taken and commit"
        ),
        claim=f"{_SPEC}: claim: lease (default) or transaction",
        lock_timeout=(
            'graphile-worker docs "Crashed worker recovery": a crashed worker\'s jobs "remain '
            'locked for up to 4 hours" (https://worker.graphile.org/docs/pro/recovery)'
        ),
        requeue=f"{_SPEC}: jobs are claimed in id order, so a returned job keeps its place",
    ),
    "redis": _sources(
        _NEUTRAL,
        publish_latency=f"{_SPEC}: ~1 ms",
        deliver_latency=f"{_SPEC}: ~1 ms",
        capacity=_SPEC_CAPACITY,
        durable=_SPEC_DURABLE,
        delivery=(
            f"{_KOMBU_REDIS}: workers BRPOP and reserve messages up to their prefetch "
            "limit (QoS.can_consume)"
        ),
        prefetch_on_auto_ack=(
            f"{_KOMBU_REDIS}: the prefetch limit applies to every reserved message"
        ),
        redelivery=f"{_CELERY_REDIS}, Visibility Timeout and Caveats",
        visibility_timeout=(
            f'{_CELERY_REDIS}: "The default visibility timeout for Redis is 1 hour"; '
            f"{_KOMBU_REDIS}: Channel.visibility_timeout = 3600"
        ),
        restore_interval=(
            f"{_KOMBU_REDIS}: QoS.restore_visible runs at worker start (on_poll_init) and "
            "from a 10 s timer (call_repeatedly(10, maybe_restore_messages)) that acts only "
            "on every 10th call (interval=10): every 100 s"
        ),
        requeue=(
            f"{_KOMBU_REDIS}: QoS.restore_by_tag RPUSHes a restored message onto the end "
            "BRPOP takes from: the head"
        ),
        prefetch_multiplier=(
            'Celery docs "Configuration and defaults", worker_prefetch_multiplier: default 4 '
            "(https://docs.celeryq.dev/en/stable/userguide/configuration.html)"
        ),
    ),
    "in-process": _sources(
        _NEUTRAL,
        publish_latency=f"{_SPEC}: ~0",
        deliver_latency=f"{_SPEC}: ~0",
        capacity=_SPEC_CAPACITY,
        durable=f"{_SPEC}: the queue lives in the process's memory",
        delivery=(
            'Python docs "queue - A synchronized queue class": consumers block in get() until '
            "an item is put (https://docs.python.org/3/library/queue.html)"
        ),
        redelivery=f"{_SPEC}: none; if the process crashes every queued and in-flight message "
        "is lost",
        embedded=f"{_SPEC}: an outage of the broker is the crash of the host process",
    ),
}
_KAFKA_CONSUMER = (
    'Apache Kafka docs "Consumer Configs" (https://kafka.apache.org/documentation/#consumerconfigs)'
)
SOURCES["kafka"] = _sources(
    _NEUTRAL,
    publish_latency=f"{_SPEC}: ~5 ms",
    deliver_latency=f"{_SPEC}: a fetch's cost is its api_latency",
    capacity=_SPEC_CAPACITY,
    durable=f"{_SPEC}: a topic is replicated; retention is unlimited in the model",
    delivery=f"{_KAFKA_CONSUMER}: consumers poll() their assigned partitions",
    api_latency=f"{_SPEC}: ~5 ms per fetch",
    wait_time=(
        f"{_KAFKA_CONSUMER}, fetch.max.wait.ms: default 500 ms (a fetch waits that long for "
        "records; the model answers it as soon as one arrives)"
    ),
    redelivery=(
        f"{_SPEC}: none; a log is never redelivered, a new owner resumes from the committed "
        "offset (the kafka keys below)"
    ),
)
KAFKA_SOURCES: dict[str, str] = {
    "partitions": f"{_SPEC}: 1 (cf. Apache Kafka broker config num.partitions, default 1)",
    "session_timeout": (
        f"{_KAFKA_CONSUMER}, session.timeout.ms: default 45000 ms (45 s since Kafka 3.0, "
        "KIP-735)"
    ),
    "commit": f"{_KAFKA_CONSUMER}, enable.auto.commit: default true",
    "commit_interval": f"{_KAFKA_CONSUMER}, auto.commit.interval.ms: default 5000 ms",
    "max_poll_records": f"{_KAFKA_CONSUMER}, max.poll.records: default 500",
    "max_poll_interval": f"{_KAFKA_CONSUMER}, max.poll.interval.ms: default 300000 ms (5 min)",
    "assignment": (
        f"{_KAFKA_CONSUMER}, partition.assignment.strategy: default [RangeAssignor, "
        "CooperativeStickyAssignor] (range is used; cooperative-sticky by choice)"
    ),
    "rebalance_time": (
        f"{_SPEC} (estimate, not a Kafka setting): a join and sync round of the group "
        "protocol; cf. the broker's group.initial.rebalance.delay.ms, 3 s, for a new group"
    ),
}
_KEDA = (
    'KEDA docs "ScaledObject specification" '
    "(https://keda.sh/docs/latest/reference/scaledobject-spec/)"
)
AUTOSCALE_SOURCES: dict[str, str] = {
    "min": f"{_SPEC}: 1 (KEDA's minReplicaCount defaults to 0: scale to zero)",
    "interval": f"{_KEDA}: pollingInterval, default 30 s",
    "startup": f"{_SPEC}: 0 (a container's start-up time is the user's to give)",
    "cooldown": f"{_KEDA}: cooldownPeriod, default 300 s",
}

QUEUE_SOURCES: dict[str, dict[str, str]] = {
    kind: {"ordering": f"{_SQS_FIFO_TERMS}, Message group ID" if kind == "sqs-fifo" else _SPEC}
    for kind in TYPES
}

# --- the generated reference table --------------------------------------------------------

BEGIN_MARK = "<!-- BEGIN GENERATED by sim.presets.write_docs(): edit sim/presets.py instead -->"
END_MARK = "<!-- END GENERATED -->"


def _duration(seconds: float) -> str:
    """Seconds as a person writes them: 0, 0.5 ms, 20 s, 5 min, 4 h."""
    if seconds == 0:
        return "0"
    if seconds < 1:
        return f"{seconds * 1000:g} ms"
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def format_value(key: str, value: Any) -> str:
    """A preset value for the docs: YAML words for null and booleans, units for durations."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        params = ", ".join(
            f"{k}: {_duration(v) if isinstance(v, int | float) else v}"
            for k, v in value.items()
            if k != "dist"
        )
        return f"{value['dist']}({params})"
    if key in COUNT_KEYS:
        return str(value)
    return _duration(float(value))


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown_table() -> str:
    """The generated part of docs/presets.md: every default by type, then each with its source."""
    lines = [_row(["key", *TYPES]), _row(["---"] * (len(TYPES) + 1))]
    for key in PRESET_KEYS:
        lines.append(_row([f"`{key}`", *(format_value(key, PRESETS[t][key]) for t in TYPES)]))
    for key in QUEUE_DEFAULTS["ideal"]:
        values = (format_value(key, QUEUE_DEFAULTS[t][key]) for t in TYPES)
        lines.append(_row([f"`{key}` (queue)", *values]))
    for kind in TYPES:
        lines += ["", f"### `{kind}`: defaults and sources", ""]
        lines += [_row(["key", "default", "source"]), _row(["---"] * 3)]
        for key in PRESET_KEYS:
            value = format_value(key, PRESETS[kind][key])
            lines.append(_row([f"`{key}`", value, SOURCES[kind][key]]))
        for key, value in QUEUE_DEFAULTS[kind].items():
            source = QUEUE_SOURCES[kind][key]
            lines.append(_row([f"`{key}` (queue)", format_value(key, value), source]))
    lines += ["", "### `kafka`: consumer-group keys (kafka brokers and topics only)", ""]
    lines += [_row(["key", "default", "source"]), _row(["---"] * 3)]
    for key, value in {**KAFKA_QUEUE_DEFAULTS, **KAFKA_DEFAULTS}.items():
        shown = f"`{key}` (queue)" if key in KAFKA_QUEUE_DEFAULTS else f"`{key}`"
        lines.append(_row([shown, format_value(key, value), KAFKA_SOURCES[key]]))
    lines += ["", "### `autoscale` (a pool's): defaults and sources", ""]
    lines += [_row(["key", "default", "source"]), _row(["---"] * 3)]
    for key, value in AUTOSCALE_DEFAULTS.items():
        lines.append(_row([f"`{key}`", format_value(key, value), AUTOSCALE_SOURCES[key]]))
    return "\n".join(lines) + "\n"


def generated_block() -> str:
    """The table with the markers that delimit it in docs/presets.md."""
    return f"{BEGIN_MARK}\n\n{markdown_table()}\n{END_MARK}"


def write_docs(path: str | Path) -> None:
    """Replace the generated block of ``path`` (which must already hold both markers)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN_MARK), text.index(END_MARK) + len(END_MARK)
    path.write_text(text[:start] + generated_block() + text[end:], encoding="utf-8")
