"""Rig check node: is every configured camera running, configured and publishing?

Gathers what the graph shows (nodes, each camera node's parameters through its ``list_parameters``
service, each topic's publishers with type and QoS, and whether a first message arrives) until
everything the rig expects is there or ``timeout_s`` passes, then hands that snapshot to the core
(:mod:`microexp.rigcheck`) and logs its report. Exit status 0: ready; 1: a problem (the report says
what and how to fix it); 130: interrupted. ``microexp rig check`` runs this executable, and the
record graph runs it before it starts the recorder (``rig_check:=false`` skips it).

One process instead of ``ros2 param list`` / ``ros2 topic info`` per camera: one DDS discovery,
about a second in all when the cameras are up.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import rclpy
from rcl_interfaces.srv import ListParameters
from rclpy.client import Client
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy
from rclpy.subscription import Subscription
from rclpy.task import Future

from microexp.errors import ConfigError, MicroexpError
from microexp.rigcheck import (
    CameraExpectation,
    Finding,
    GraphSnapshot,
    PublisherInfo,
    RigCheckConfig,
    exit_status,
    format_report,
    live_findings,
    rig_expectations,
    static_findings,
)
from microexp.rosgraph import ament_prefixes, load_rig
from microexp_ros._node_utils import params_to_dataclass, qos_preset, raw_subscription

__all__ = ["RigCheckNode", "main"]

_POLL_S = 0.25
_PARAMS_EVERY_S = 1.0
_PARAMS_RETRY_S = 3.0


class RigCheckNode(Node):
    def __init__(self) -> None:
        super().__init__("rig_check")
        self.config = params_to_dataclass(self, RigCheckConfig)
        c = self.config
        rig = load_rig(Path(c.rig_dir) if c.rig_dir else None)
        self.expectations: list[CameraExpectation] = rig_expectations(
            rig, cameras=c.cameras, sim=c.sim
        )
        self.extra: list[Finding] = []
        self.received: Counter[str] = Counter()
        self.params: dict[str, frozenset[str]] = {}
        self._param_clients: dict[str, Client] = {}
        self._param_calls: dict[str, Future] = {}
        self._asked_at: dict[str, float] = {}
        self._subs: dict[str, Subscription] = {}
        # best effort + volatile matches every publisher: whether it publishes is told apart from
        # whether its QoS is the expected one (that comes from the graph)
        qos = qos_preset("sensor_data", depth=10)
        for exp in self.expectations:
            for topic in exp.topics:
                if not topic.must_publish:
                    continue
                try:
                    self._subs[topic.name] = raw_subscription(
                        self, topic.msgtype, topic.name, self._counter(topic.name), qos
                    )
                except ConfigError as err:
                    self.extra.append(
                        Finding(
                            "error",
                            exp.camera,
                            topic.name,
                            str(err),
                            "build and source the package of that message type (the driver's)",
                        )
                    )

    def _counter(self, topic: str) -> Callable[[bytes], None]:
        def count(_data: bytes) -> None:
            self.received[topic] += 1

        return count

    def _ask_params(self, exp: CameraExpectation) -> None:
        """(Re)list the node's parameters every second until it knows every configured key (a
        node may declare some late: gscam does so on its pipeline thread)."""
        fqn = exp.fqn
        known = self.params.get(fqn)
        if known is not None and set(exp.configured) <= known:
            return
        client = self._param_clients.get(fqn)
        if client is None:
            client = self._param_clients[fqn] = self.create_client(
                ListParameters, f"{fqn}/list_parameters"
            )
        future = self._param_calls.get(fqn)
        if future is not None:
            if future.done():
                result = future.result()
                if result is not None:
                    self.params[fqn] = frozenset(result.result.names)
            elif time.monotonic() - self._asked_at[fqn] < _PARAMS_RETRY_S:
                return
            else:  # a request sent before the reply path matched is lost: ask again
                client.remove_pending_request(future)
            del self._param_calls[fqn]
        if time.monotonic() - self._asked_at.get(fqn, 0.0) < _PARAMS_EVERY_S:
            return
        if client.service_is_ready():
            self._asked_at[fqn] = time.monotonic()
            self._param_calls[fqn] = client.call_async(ListParameters.Request())

    def _unsubscribe_heard(self) -> None:
        """One message is all the check needs: a topic heard from costs nothing more."""
        for name in [n for n in self._subs if self.received[n]]:
            self.destroy_subscription(self._subs.pop(name))

    def snapshot(self, waited_s: float) -> GraphSnapshot:
        self._unsubscribe_heard()
        nodes = frozenset(
            f"{ns.rstrip('/')}/{name}" for name, ns in self.get_node_names_and_namespaces()
        )
        for exp in self.expectations:
            if exp.fqn in nodes:
                self._ask_params(exp)
        publishers = {}
        for exp in self.expectations:
            for topic in exp.topics:
                publishers[topic.name] = tuple(
                    PublisherInfo(
                        node=f"{info.node_namespace.rstrip('/')}/{info.node_name}",
                        msgtype=info.topic_type,
                        reliable=info.qos_profile.reliability == ReliabilityPolicy.RELIABLE,
                        transient_local=(
                            info.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
                        ),
                    )
                    for info in self.get_publishers_info_by_topic(topic.name)
                )
        return GraphSnapshot(
            nodes=nodes,
            params=dict(self.params),
            publishers=publishers,
            received=dict(self.received),
            waited_s=waited_s,
        )

    def run_check(self, executor: SingleThreadedExecutor) -> int:
        c = self.config
        start = time.monotonic()
        next_poll = start
        while True:
            executor.spin_once(timeout_sec=_POLL_S / 5)
            now = time.monotonic()
            if now < next_poll:
                continue
            next_poll = now + _POLL_S
            snap = self.snapshot(now - start)
            live = [*self.extra, *live_findings(self.expectations, snap)]
            # done when nothing could still change (ready, or only lasting faults such as a
            # wrong type or QoS), or when time is up
            if all(f.settled for f in live) or now - start >= c.timeout_s:
                break
        findings = [
            *static_findings(self.expectations, prefixes=ament_prefixes(os.environ)),
            *live,
        ]
        status = exit_status(findings, strict=c.strict)
        report = format_report(findings, expectations=self.expectations, live=True)
        report += f" (after {time.monotonic() - start:.1f} s)"
        (self.get_logger().error if status else self.get_logger().info)("\n" + report)
        return status


def main(args: Sequence[str] | None = None) -> int:
    rclpy.init(args=list(args) if args is not None else None)
    node: RigCheckNode | None = None
    status = 1
    try:
        node = RigCheckNode()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        status = node.run_check(executor)
    except (KeyboardInterrupt, ExternalShutdownException):
        status = 130
    except MicroexpError as err:
        rclpy.logging.get_logger("rig_check").fatal(str(err))
        status = 1
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())
