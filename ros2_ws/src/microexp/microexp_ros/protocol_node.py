"""protocol_node: plays a session plan (the instruction video) and publishes its events.

Publishes ``/microexp/protocol`` (microexp_msgs/ProtocolEvent, reliable, depth 100),
``/microexp/session`` (SessionInfo) and ``/microexp/consent`` (Consent; both reliable + transient
local). Refuses to start (exit status 1, nothing published) unless the subject's consent covers
every camera of the launch (:func:`microexp.consent.session_consent`). Services (std_srvs/Trigger):
``/microexp/protocol/{pause,resume,redo,skip,abort}``. Every stamp is ROS time (the node clock,
so ``use_sim_time`` works): with a display, the time the frame showing the change was shown.
All logic is in :mod:`microexp.protocol`; this node only wires parameters, timer and messages.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rclpy.duration import Duration
from rclpy.node import Node
from std_srvs.srv import Trigger

from microexp import __version__
from microexp.consent import (
    CONSENT_TOPIC,
    CONSENT_TYPE,
    consent_fields,
    parse_camera_modalities,
    session_consent,
)
from microexp.errors import ConfigError
from microexp.protocol.engine import ProtocolEngine
from microexp.protocol.events import ProtocolError, ProtocolEvent, SessionInfo
from microexp.protocol.plan import find_plan, load_plan
from microexp.protocol.player import (
    Display,
    InstructionPlayer,
    NullDisplay,
    PygameWindow,
    VideoFileDisplay,
    make_renderer,
)
from microexp.protocol.progress import ProgressStore
from microexp.protocol.sound import PygameAudio
from microexp_ros._node_utils import msg_class, params_to_dataclass, qos_preset, run_node

__all__ = ["COMMANDS", "ProtocolNode", "ProtocolNodeParams", "main", "to_msg"]

_ACK_TIMEOUT_S = 5.0  # how long close() waits for subscribers to acknowledge the last events

COMMANDS = ("pause", "resume", "redo", "skip", "abort")
KEYS = {"p": "pause", "r": "resume", "d": "redo", "s": "skip", "a": "abort"}
SERVICE_PREFIX = "/microexp/protocol/"


@dataclass(frozen=True)
class ProtocolNodeParams:
    plan: str  # plan YAML path, or a name under share/microexp/config/protocol
    subject_id: str
    session_id: str
    consent: bool = False  # shorthand: study-only consent for every modality
    consent_file: str = ""  # consent YAML (config/consent/example.yaml); instead of consent
    camera_modalities: tuple[str, ...] = ()  # "camera:modality" the launch records
    glasses: bool = False
    lux: float = math.nan
    lighting: str = ""
    notes: str = ""
    headless: bool = True  # no window (the frames go nowhere, or to video_out)
    fullscreen: bool = False  # with a window (needs pygame)
    video_out: str = ""  # headless: also write the frames to this video (.mp4/.avi)
    fps: int = 30
    width: int = 1280
    height: int = 720
    progress: str = ""  # progress file; a restarted node resumes from it
    start_delay_s: float = 0.0  # wait this long (e.g. for the recorder) before the session starts
    wait_for_subscribers: int = 0  # ... and until /microexp/protocol has this many subscribers
    shutdown_on_end: bool = False

    def __post_init__(self) -> None:
        if self.video_out and not self.headless:
            raise ConfigError("parameter video_out needs headless:=true")
        if self.fps <= 0 or self.start_delay_s < 0 or self.wait_for_subscribers < 0:
            raise ConfigError(
                f"parameters fps={self.fps}, start_delay_s={self.start_delay_s}, "
                f"wait_for_subscribers={self.wait_for_subscribers}: out of range"
            )


def _share_plan_dirs() -> list[Path]:
    """share/microexp/config/protocol of the installed package (where colcon put the plans)."""
    try:
        from ament_index_python.packages import (
            PackageNotFoundError,
            get_package_share_directory,
        )
    except ImportError:
        return []
    try:
        return [Path(get_package_share_directory("microexp")) / "config" / "protocol"]
    except PackageNotFoundError:
        return []


class RosClock:
    """The engine's clock adapter: the node's ROS clock in integer ns."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def now_ns(self) -> int:
        return int(self._node.get_clock().now().nanoseconds)


def _stamp(msg: Any, t_ns: int) -> None:
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(t_ns), 1_000_000_000)


def to_msg(ev: ProtocolEvent, cls: type) -> Any:
    """Core event -> microexp_msgs/ProtocolEvent (field for field)."""
    msg = cls()
    _stamp(msg, ev.stamp_ns)
    msg.kind, msg.phase = int(ev.kind), int(ev.phase)
    msg.session_id, msg.subject_id = ev.session_id, ev.subject_id
    msg.segment_index, msg.attempt = ev.segment_index, ev.attempt
    msg.label, msg.au_numbers = ev.label, list(ev.au_numbers)
    msg.valid, msg.detail = ev.valid, ev.detail
    return msg


class ProtocolNode(Node):
    def __init__(self) -> None:
        super().__init__("protocol_node")
        self.p = params_to_dataclass(self, ProtocolNodeParams)
        plan = load_plan(find_plan(self.p.plan, search_dirs=_share_plan_dirs()))
        # before anything is published: a consent that does not cover the launch ends the node
        self.consent = session_consent(
            consent=self.p.consent,
            consent_file=self.p.consent_file,
            subject_id=self.p.subject_id,
            session_id=self.p.session_id,
            cameras=parse_camera_modalities(
                self.p.camera_modalities, where="protocol_node: camera_modalities"
            ),
            today=dt.date.today(),
        )
        self.session = SessionInfo(
            subject_id=self.p.subject_id,
            session_id=self.p.session_id,
            consent=True,
            plan_name=plan.name,
            glasses=self.p.glasses,
            lux=self.p.lux,
            lighting=self.p.lighting,
            notes=self.p.notes,
            microexp_version=__version__,
        )
        self.clock = RosClock(self)
        store = ProgressStore(self.p.progress) if self.p.progress else None
        self.engine = ProtocolEngine(plan, self.session, clock=self.clock, progress=store)
        self._event_cls = msg_class("microexp_msgs/msg/ProtocolEvent")
        self._pub = self.create_publisher(
            self._event_cls, "/microexp/protocol", qos_preset("reliable", depth=100)
        )
        self._session_cls = msg_class("microexp_msgs/msg/SessionInfo")
        self._session_pub = self.create_publisher(
            self._session_cls, "/microexp/session", qos_preset("latched")
        )
        self._consent_pub = self.create_publisher(
            msg_class(CONSENT_TYPE), CONSENT_TOPIC, qos_preset("latched")
        )
        self._publish_session()
        self.display = self._display()
        renderer = make_renderer(plan, width=self.p.width, height=self.p.height)
        self.audio = None if self.p.headless else PygameAudio()
        self.player = InstructionPlayer(
            self.engine, renderer=renderer, display=self.display, fps=self.p.fps, audio=self.audio
        )
        for name in COMMANDS:
            self.create_service(Trigger, SERVICE_PREFIX + name, self._command_callback(name))
        self._start_ns = self.clock.now_ns() + round(self.p.start_delay_s * 1e9)
        self._started = False
        self._timer = self.create_timer(1.0 / self.p.fps, self._on_frame)
        self.get_logger().info(f"consent: {self.consent.describe()}")
        self.get_logger().info(
            f"plan {plan.name!r}: {len(plan.segments)} segments, subject {self.p.subject_id!r}, "
            f"session {self.p.session_id!r}, {'headless' if self.p.headless else 'window'} "
            f"at {self.p.fps} fps"
        )

    def _display(self) -> Display:
        if self.p.headless and self.p.video_out:
            return VideoFileDisplay(
                Path(self.p.video_out), fps=self.p.fps, width=self.p.width, height=self.p.height
            )
        if self.p.headless:
            return NullDisplay(self.clock)
        return PygameWindow(
            clock=self.clock,
            width=self.p.width,
            height=self.p.height,
            fullscreen=self.p.fullscreen,
            on_key=self._on_key,  # the window takes the operator console's keys too
        )

    def _on_key(self, key: str) -> None:
        if key in KEYS:
            try:
                self.engine.command(KEYS[key])
            except ProtocolError as err:
                self.get_logger().warning(str(err))

    def _command_callback(self, name: str) -> Callable[[Any, Any], Any]:
        return lambda _req, res: self._on_command(name, res)

    def _publish_session(self) -> None:
        msg = self._session_cls()
        _stamp(msg, self.clock.now_ns())
        s = self.session
        msg.subject_id, msg.session_id, msg.plan_name = s.subject_id, s.session_id, s.plan_name
        msg.glasses, msg.lux, msg.lighting, msg.notes = s.glasses, s.lux, s.lighting, s.notes
        msg.consent, msg.microexp_version = s.consent, s.microexp_version
        self._session_pub.publish(msg)
        consent = msg_class(CONSENT_TYPE)()
        consent.header.stamp = msg.header.stamp
        for name, value in consent_fields(self.consent).items():
            setattr(consent, name, value)
        self._consent_pub.publish(consent)

    def _on_frame(self) -> None:
        now = self.clock.now_ns()
        if self.engine.finished:
            return
        if not self._started:
            subs = self._pub.get_subscription_count()
            if now < self._start_ns or subs < self.p.wait_for_subscribers:
                return
            self._started = True
        for ev in self.player.step(now):
            self._pub.publish(to_msg(ev, self._event_cls))
            self.get_logger().info(
                f"{ev.kind.name} {ev.phase.name} seg={ev.segment_index} att={ev.attempt} "
                f"{ev.label} {ev.detail}"
            )
        if self.engine.finished:
            self.get_logger().info("session ended")
            if self.p.shutdown_on_end:
                raise KeyboardInterrupt("session ended")

    def _on_command(self, name: str, res: Any) -> Any:
        try:
            self.engine.command(name)
            res.success, res.message = True, f"{name} queued"
        except ProtocolError as err:
            res.success, res.message = False, str(err)
        self.get_logger().info(f"command {name}: {res.message}")
        return res

    def close(self) -> None:
        # reliable events are resent until acknowledged, but only while this process lives: wait
        # for every subscriber (the recorder) to hold the session's last events before exiting
        if not self._pub.wait_for_all_acked(Duration(seconds=_ACK_TIMEOUT_S)):
            self.get_logger().warning(
                f"not every subscriber acknowledged the protocol events within {_ACK_TIMEOUT_S} s"
            )
        self.display.close()
        if self.audio is not None:
            self.audio.close()


def main(args: list[str] | None = None) -> int:
    return run_node(ProtocolNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
