"""Shared plumbing of the microexp nodes: the standard ``main()`` shape, parameters -> frozen
dataclass, QoS presets, and raw (pre-serialized CDR) publishers and subscriptions.

Raw path: ``Publisher.publish(bytes)`` hands rclpy an already serialized message (rclpy >= Humble
calls ``publish_raw`` for ``bytes``); subscriptions made with ``raw=True`` deliver ``bytes``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import signal
import time
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rclpy.subscription import Subscription

from microexp.errors import ConfigError, MicroexpError

__all__ = [
    "drain_pending",
    "msg_class",
    "offered_qos",
    "params_to_dataclass",
    "publish_reliably",
    "qos_preset",
    "raw_publisher",
    "raw_subscription",
    "run_node",
]

T = TypeVar("T")


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_node(factory: Callable[[], Node], args: Sequence[str] | None = None) -> int:
    """``rclpy.init``, build the node, spin until SIGINT/SIGTERM or shutdown, then ``node.drain()``
    and ``node.close()`` (where the node has them) while the context is still valid, destroy,
    ``rclpy.shutdown``. Returns the exit status: 0, or 1 after a :class:`MicroexpError` (logged as
    fatal)."""
    # our own SIGINT/SIGTERM handling: rclpy's would invalidate the context before close() runs
    rclpy.init(
        args=list(args) if args is not None else None,
        signal_handler_options=SignalHandlerOptions.NO,
    )
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    node: Node | None = None
    status = 0
    try:
        node = factory()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except MicroexpError as err:
        rclpy.logging.get_logger(node.get_name() if node else "microexp").fatal(str(err))
        status = 1
    finally:
        if node is not None:
            drain = getattr(node, "drain", None)
            if callable(drain) and node.context.ok():
                # callbacks for what DDS already delivered (the recorder's last messages); a
                # second Ctrl-C skips the drain, never the close
                with contextlib.suppress(KeyboardInterrupt):
                    drain()
            close = getattr(node, "close", None)
            if callable(close):
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return status


def drain_pending(
    node: Node, *, progress: Callable[[], int], idle_polls: int = 3, max_s: float = 2.0
) -> int:
    """Run ``node``'s ready callbacks after it was interrupted, until ``idle_polls`` polls of 20 ms
    in a row leave ``progress()`` unchanged, or ``max_s``. Returns how much ``progress()`` grew.

    Messages a reliable publisher has sent (and DDS acknowledged) but the executor had not taken
    when SIGINT arrived sit in the reader's queue; without this they are dropped with the node."""
    executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    start = progress()
    deadline = time.monotonic() + max_s
    idle = 0
    try:
        while idle < idle_polls and time.monotonic() < deadline:
            before = progress()
            executor.spin_once(timeout_sec=0.02)
            idle = idle + 1 if progress() == before else 0
    finally:
        executor.remove_node(node)
        executor.shutdown(timeout_sec=0)
    return progress() - start


def qos_preset(preset: str, *, depth: int = 10) -> QoSProfile:
    """``sensor_data`` (best effort), ``reliable`` or ``latched`` (reliable + transient local, depth 1)."""
    if preset == "sensor_data":
        return QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=depth,
            reliability=ReliabilityPolicy.BEST_EFFORT,
            durability=DurabilityPolicy.VOLATILE,
        )
    if preset == "reliable":
        return QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=depth,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.VOLATILE,
        )
    if preset == "latched":
        return QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
    raise ConfigError(f"unknown QoS preset {preset!r}; expected sensor_data, reliable or latched")


def offered_qos(node: Node, topic: str) -> list[tuple[bool, bool]]:
    """``(reliable, transient_local)`` of every publisher of ``topic`` currently discovered."""
    out = []
    for info in node.get_publishers_info_by_topic(topic):
        q = info.qos_profile
        out.append(
            (
                q.reliability == ReliabilityPolicy.RELIABLE,
                q.durability == DurabilityPolicy.TRANSIENT_LOCAL,
            )
        )
    return out


def msg_class(type_name: str) -> type:
    """The generated class of ``pkg/msg/Type`` (the package must be built and sourced)."""
    try:
        package, kind, name = type_name.split("/")
        cls: type = getattr(importlib.import_module(f"{package}.{kind}"), name)
        return cls
    except (ValueError, ImportError, AttributeError) as err:
        raise ConfigError(
            f"message type {type_name!r} is not available (built and sourced?): {err}"
        ) from err


def raw_publisher(node: Node, type_name: str, topic: str, qos: QoSProfile) -> Publisher:
    """A publisher to hand pre-serialized CDR ``bytes`` (``pub.publish(data)``)."""
    return node.create_publisher(msg_class(type_name), topic, qos)


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


def publish_reliably(
    pub: Publisher, data: bytes, *, wait: Callable[[float], bool] = _sleep
) -> bool:
    """Publish on a reliable KEEP_ALL publisher, waiting while its history is full.

    A KEEP_ALL writer never drops what a reader has not acknowledged: when its history is full, the
    write blocks (Fast DDS: up to 100 ms) and then fails ("cannot publish data"). Retrying is the
    flow control a reliable stream asks for: the publisher slows to its slowest reliable reader.
    ``wait(seconds)`` sleeps between tries and returns True to give up (shutdown); returns whether
    the message was published."""
    while True:
        try:
            pub.publish(data)
            return True
        except _rclpy.RCLError:
            if wait(0.01):
                return False


def raw_subscription(
    node: Node,
    type_name: str,
    topic: str,
    callback: Callable[[bytes], None],
    qos: QoSProfile,
    **kwargs: Any,
) -> Subscription:
    """A subscription delivering serialized CDR ``bytes``."""
    return node.create_subscription(msg_class(type_name), topic, callback, qos, raw=True, **kwargs)


_PTYPES: dict[Any, Parameter.Type] = {
    str: Parameter.Type.STRING,
    int: Parameter.Type.INTEGER,
    float: Parameter.Type.DOUBLE,
    bool: Parameter.Type.BOOL,
    list[str]: Parameter.Type.STRING_ARRAY,
    tuple[str, ...]: Parameter.Type.STRING_ARRAY,
    list[int]: Parameter.Type.INTEGER_ARRAY,
    tuple[int, ...]: Parameter.Type.INTEGER_ARRAY,
    list[float]: Parameter.Type.DOUBLE_ARRAY,
    tuple[float, ...]: Parameter.Type.DOUBLE_ARRAY,
}


def _ptype(hint: Any, name: str) -> Parameter.Type:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        hint = type(typing.get_args(hint)[0])
    elif origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0]
    if hint not in _PTYPES:
        raise ConfigError(f"parameter {name}: unsupported field type {hint!r}")
    return _PTYPES[hint]


def params_to_dataclass(node: Node, cls: type[T], *, prefix: str = "") -> T:
    """Declare one parameter per field of the frozen dataclass ``cls`` (defaults from the dataclass,
    fields without default are required) and build ``cls`` from their values. The dataclass's
    ``__post_init__`` does the validation; a missing value raises :class:`ConfigError`."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = prefix + field.name
        ptype = _ptype(hints[field.name], name)
        default = (
            field.default
            if field.default is not dataclasses.MISSING
            else (
                field.default_factory()
                if field.default_factory is not dataclasses.MISSING
                else None
            )
        )
        node.declare_parameter(name, ptype)
        value = node.get_parameter_or(name, Parameter(name, Parameter.Type.NOT_SET)).value
        if value is None:
            if default is None and field.default is dataclasses.MISSING:
                raise ConfigError(f"node {node.get_name()}: parameter {name} is required")
            value = default
        if isinstance(value, list) or (value is not None and ptype.name.endswith("ARRAY")):
            value = tuple(value)
        allowed = typing.get_args(hints[field.name])
        if typing.get_origin(hints[field.name]) is typing.Literal and value not in allowed:
            raise ConfigError(
                f"node {node.get_name()}: parameter {name} is {value!r}; expected one of {list(allowed)}"
            )
        values[field.name] = value
    return cls(**values)
