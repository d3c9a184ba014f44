"""Bag player node: republishes a bag's raw CDR messages at the recorded pace with the drivers' QoS.

Which topics and which QoS come from :func:`microexp.playback.select_topics`, the timing from
:func:`microexp.playback.play_messages` (both ROS-free); this node creates one raw publisher per
topic and runs the playback in a thread (precise sleeps instead of a polling timer), so that the
executor stays free for SIGINT. At the end (or on SIGINT) it logs a summary and exits 0.
``microexp play BAG`` starts it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from microexp.bagio.reader import BagReader, RawMessage, open_bag
from microexp.errors import ConfigError
from microexp.playback import PlaybackStats, PlayerConfig, TopicQos, play_messages, select_topics
from microexp.rosgraph.launch_description import installed_rig_dir
from microexp.rosgraph.rig import load_rig
from microexp_ros._node_utils import (
    params_to_dataclass,
    publish_reliably,
    raw_publisher,
    run_node,
)

__all__ = ["PlayerNode", "main"]

_ACK_TIMEOUT_S = 3.0


def _profile(q: TopicQos) -> QoSProfile:
    """Reliable (not latched) topics KEEP_ALL: the player bursts after a stall, and a reliable
    KEEP_LAST writer drops what its readers have not acknowledged yet. History is not part of QoS
    matching: subscribers see the drivers' reliability and durability."""
    keep_all = q.depth == 0 or (q.reliable and not q.transient_local)
    return QoSProfile(
        history=HistoryPolicy.KEEP_ALL if keep_all else HistoryPolicy.KEEP_LAST,
        depth=max(q.depth, 1),
        reliability=ReliabilityPolicy.RELIABLE if q.reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL
        if q.transient_local
        else DurabilityPolicy.VOLATILE,
    )


class PlayerNode(Node):
    def __init__(self) -> None:
        super().__init__("player")
        cfg = self.config = params_to_dataclass(self, PlayerConfig)
        rig = load_rig(Path(cfg.rig_dir) if cfg.rig_dir else installed_rig_dir())
        self._reader: BagReader = open_bag(cfg.bag)
        self._pubs: dict[str, Publisher] = {}
        for t in select_topics(self._reader, cfg, rig=rig, where=cfg.bag):
            try:
                self._pubs[t.name] = raw_publisher(self, t.msgtype, t.name, _profile(t.qos))
            except ConfigError as err:
                if t.name in cfg.topics:
                    raise
                self.get_logger().warning(f"not playing {t.name}: {err}")
                continue
            self.get_logger().info(
                f"{t.name} [{t.msgtype}] {t.count} msgs, qos {t.qos.preset} ({t.qos.source})"
            )
        if not self._pubs:
            raise ConfigError(f"player: {cfg.bag}: no topic to play")
        self._stop = threading.Event()
        self._stats: PlaybackStats | None = None
        self._error: Exception | None = None
        # polls the playback thread, and wakes the executor so that SIGINT is handled promptly
        self.create_timer(0.1, self._check_done)
        self._thread = threading.Thread(target=self._run, name="playback", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._wait_for_subscribers()
            self.get_logger().info(
                f"playing {self.config.bag} at rate {self.config.rate:g}"
                + (" (loop)" if self.config.loop else "")
            )
            self._stats = play_messages(
                self._one_pass,
                self._publish,
                rate=self.config.rate,
                loop=self.config.loop,
                wait_s=self._stop.wait,
            )
        except Exception as err:  # re-raised in the executor thread (_check_done)
            self._error = err

    def _wait_for_subscribers(self) -> None:
        """Until every ``wait_for`` topic that is played has a matched subscription."""
        pubs = {n: p for n, p in self._pubs.items() if n in self.config.wait_for}
        if pubs:
            self.get_logger().info(f"waiting for subscribers on {sorted(pubs)}")
        deadline = time.monotonic() + self.config.wait_timeout_s
        while pubs and not self._stop.is_set():
            pubs = {n: p for n, p in pubs.items() if p.get_subscription_count() < 1}
            if pubs and time.monotonic() > deadline:
                self.get_logger().warning(
                    f"no subscriber on {sorted(pubs)} after {self.config.wait_timeout_s:g} s: "
                    "playing anyway"
                )
                return
            self._stop.wait(0.05)

    def _one_pass(self) -> Iterator[RawMessage]:
        return self._reader.messages(topics=list(self._pubs))

    def _publish(self, msg: RawMessage) -> None:
        data = msg.data if isinstance(msg.data, bytes) else bytes(msg.data)
        # bytes: rclpy publishes them as serialized CDR; a full KEEP_ALL history waits for readers
        publish_reliably(self._pubs[msg.topic], data, wait=self._stop.wait)

    def _check_done(self) -> None:
        if self._thread.is_alive():
            return
        if self._error is not None:
            raise self._error
        raise KeyboardInterrupt("playback finished")  # ends run_node's spin with status 0

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10.0)
        for topic, pub in self._pubs.items():  # reliable ones: until the readers hold everything
            if not pub.wait_for_all_acked(Duration(seconds=_ACK_TIMEOUT_S)):
                self.get_logger().warning(f"{topic}: not acknowledged within {_ACK_TIMEOUT_S} s")
        if self._stats is not None:
            self.get_logger().info(f"played {self.config.bag}: {self._stats.describe()}")
        self._reader.close()


def main(args: Sequence[str] | None = None) -> int:
    return run_node(PlayerNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
