"""Session plans: typed, frozen, loaded from YAML and validated with file:line in every error.

A plan lists the labels (catalog codes) to elicit, their order (fixed or a seeded shuffle), how
often each is repeated, the phase timings of one segment, an optional demo run (played before the
main run), the sync flash pattern and optional demonstration clips. Phases of one segment always
run in this order, phases of zero duration being left out::

    [sync flashes if sync.per_segment] demo (repetitions x clip) countdown neutral perform rest

The YAML is composed to nodes first, so every error names ``<file>:<line>``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import yaml

from microexp.aus import lookup
from microexp.errors import ConfigError

__all__ = [
    "FlashPattern",
    "PlannedSegment",
    "SessionPlan",
    "SyncConfig",
    "Timing",
    "find_plan",
    "load_plan",
    "parse_plan",
    "seconds_to_ns",
]

Order = Literal["fixed", "shuffle"]
Run = Literal["demo", "main"]


def seconds_to_ns(seconds: float) -> int:
    """Seconds (YAML) to integer nanoseconds, rounded to the nearest ns."""
    return round(seconds * 1_000_000_000)


@dataclass(frozen=True, slots=True)
class FlashPattern:
    """``flashes`` full-screen white flashes, each ``on_s`` on then ``off_s`` black."""

    flashes: int
    on_s: float
    off_s: float

    @property
    def duration_ns(self) -> int:
        return self.flashes * (seconds_to_ns(self.on_s) + seconds_to_ns(self.off_s))


@dataclass(frozen=True, slots=True)
class SyncConfig:
    pattern: FlashPattern
    at_start: bool  # once when the session (or a resumed session) starts
    per_segment: bool  # at the start of every segment attempt


@dataclass(frozen=True, slots=True)
class Timing:
    """Phase durations of one segment, in seconds."""

    demo_repetitions: int
    demo_clip_s: float
    countdown_s: float
    neutral_s: float
    perform_s: float
    rest_s: float


@dataclass(frozen=True, slots=True)
class PlannedSegment:
    """One segment of the expanded plan; ``index`` is ``ProtocolEvent.segment_index``."""

    index: int
    run: Run
    label: str  # canonical catalog code
    au_numbers: tuple[int, ...]
    repetition: int  # 0-based repetition of this label within its run


@dataclass(frozen=True, slots=True)
class SessionPlan:
    name: str
    description: str
    labels: tuple[str, ...]
    order: Order
    seed: int | None
    repetitions: int
    timing: Timing
    demo_labels: tuple[str, ...]
    sync: SyncConfig
    clips: Mapping[str, Path]  # code -> absolute path of a demonstration clip
    segments: tuple[PlannedSegment, ...]  # demo run first, then the main run
    source: str  # file the plan came from ("<string>" when parsed from text)
    digest: str  # sha256 of the YAML text: progress files refer to it


_TOP_REQUIRED = ("name", "labels", "order", "repetitions", "timing", "demo_run", "sync")
_TOP_OPTIONAL = ("description", "seed", "clips")
_TIMING = ("demo_repetitions", "demo_clip_s", "countdown_s", "neutral_s", "perform_s", "rest_s")


class _Reader:
    """Typed access to composed YAML nodes; every error names file:line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, msg: str) -> ConfigError:
        return ConfigError(f"{self.source}:{node.start_mark.line + 1}: {msg}")

    def mapping(
        self, node: yaml.Node, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what}: expected a mapping, got {self._kind(node)}")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key in out:
                raise self.fail(key_node, f"{what}: duplicate or non-text key {key!r}")
            if key not in required and key not in optional:
                allowed = ", ".join((*required, *optional))
                raise self.fail(key_node, f"{what}: unknown key {key!r} (allowed: {allowed})")
            out[key] = value_node
        missing = [k for k in required if k not in out]
        if missing:
            raise self.fail(node, f"{what}: missing key(s) {', '.join(missing)}")
        return out

    def _kind(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return f"{self.scalar(node)!r}"
        return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return node  # callers report the type
        return yaml.SafeLoader("").construct_object(node, deep=True)

    def int_(self, node: yaml.Node, what: str, *, minimum: int) -> int:
        v = self.scalar(node)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(node, f"{what}: expected an integer, got {self._kind(node)}")
        if v < minimum:
            raise self.fail(node, f"{what}: must be >= {minimum}, got {v}")
        return v

    def seconds(self, node: yaml.Node, what: str) -> float:
        v = self.scalar(node)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(node, f"{what}: expected a duration in seconds, got {self._kind(node)}")
        if v < 0:
            raise self.fail(node, f"{what}: negative duration {v} s")
        return float(v)

    def str_(self, node: yaml.Node, what: str) -> str:
        v = self.scalar(node)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(node, f"{what}: expected non-empty text, got {self._kind(node)}")
        return v

    def bool_(self, node: yaml.Node, what: str) -> bool:
        v = self.scalar(node)
        if not isinstance(v, bool):
            raise self.fail(node, f"{what}: expected true or false, got {self._kind(node)}")
        return v

    def codes(self, node: yaml.Node, what: str, *, allow_empty: bool) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what}: expected a list of AU codes, got {self._kind(node)}")
        if not node.value and not allow_empty:
            raise self.fail(node, f"{what}: empty list")
        out: list[str] = []
        for item in node.value:
            v = self.scalar(item)
            if isinstance(v, bool) or not isinstance(v, str | int):
                raise self.fail(item, f"{what}: expected an AU code, got {self._kind(item)}")
            code = lookup(str(v), where=f"{self.source}:{item.start_mark.line + 1}").code
            if code in out:
                raise self.fail(item, f"{what}: {code} listed twice")
            out.append(code)
        return tuple(out)


def parse_plan(text: str, *, source: str = "<string>", base_dir: Path | None = None) -> SessionPlan:
    """Parse and validate plan YAML text; clip paths are relative to ``base_dir``."""
    r = _Reader(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: not valid YAML: {err}") from err
    if root is None:
        raise ConfigError(f"{source}:1: empty plan")
    top = r.mapping(root, "plan", _TOP_REQUIRED, _TOP_OPTIONAL)

    name = r.str_(top["name"], "name")
    description = r.str_(top["description"], "description") if "description" in top else ""
    labels = r.codes(top["labels"], "labels", allow_empty=False)
    order_node = top["order"]
    order = r.scalar(order_node)
    if order not in ("fixed", "shuffle"):
        raise r.fail(order_node, f"order: expected 'fixed' or 'shuffle', got {r._kind(order_node)}")
    seed_node = top.get("seed")
    seed = None
    if seed_node is not None and r.scalar(seed_node) is not None:
        seed = r.int_(seed_node, "seed", minimum=0)
    if order == "shuffle" and seed is None:
        raise r.fail(order_node, "order: 'shuffle' needs an integer 'seed' (reproducible order)")
    repetitions = r.int_(top["repetitions"], "repetitions", minimum=1)

    t = r.mapping(top["timing"], "timing", _TIMING)
    timing = Timing(
        demo_repetitions=r.int_(t["demo_repetitions"], "timing.demo_repetitions", minimum=0),
        **{k: r.seconds(t[k], f"timing.{k}") for k in _TIMING[1:]},
    )
    if timing.perform_s <= 0:
        raise r.fail(t["perform_s"], "timing.perform_s: the perform window must be > 0 s")

    d = r.mapping(top["demo_run"], "demo_run", ("labels",))
    demo_labels = r.codes(d["labels"], "demo_run.labels", allow_empty=True)

    s = r.mapping(top["sync"], "sync", ("pattern", "at_start", "per_segment"))
    p = r.mapping(s["pattern"], "sync.pattern", ("flashes", "on_s", "off_s"))
    pattern = FlashPattern(
        flashes=r.int_(p["flashes"], "sync.pattern.flashes", minimum=0),
        on_s=r.seconds(p["on_s"], "sync.pattern.on_s"),
        off_s=r.seconds(p["off_s"], "sync.pattern.off_s"),
    )
    if pattern.flashes and pattern.on_s <= 0:
        raise r.fail(p["on_s"], "sync.pattern.on_s: a flash must last > 0 s")
    sync = SyncConfig(
        pattern=pattern,
        at_start=r.bool_(s["at_start"], "sync.at_start"),
        per_segment=r.bool_(s["per_segment"], "sync.per_segment"),
    )

    clips: dict[str, Path] = {}
    if "clips" in top and r.scalar(top["clips"]) is not None:
        cnode = top["clips"]
        if not isinstance(cnode, yaml.MappingNode):
            raise r.fail(cnode, f"clips: expected a mapping code -> path, got {r._kind(cnode)}")
        base = base_dir if base_dir is not None else Path.cwd()
        for key_node, value_node in cnode.value:
            where = f"{source}:{key_node.start_mark.line + 1}"
            code = lookup(str(r.scalar(key_node)), where=where).code
            path = base / r.str_(value_node, f"clips.{code}")
            if not path.is_file():
                raise r.fail(value_node, f"clips.{code}: no such file {str(path)!r}")
            clips[code] = path.resolve()

    return SessionPlan(
        name=name,
        description=description,
        labels=labels,
        order=order,
        seed=seed,
        repetitions=repetitions,
        timing=timing,
        demo_labels=demo_labels,
        sync=sync,
        clips=MappingProxyType(clips),
        segments=_expand(labels, demo_labels, order=order, seed=seed, repetitions=repetitions),
        source=source,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _expand(
    labels: tuple[str, ...],
    demo_labels: tuple[str, ...],
    *,
    order: Order,
    seed: int | None,
    repetitions: int,
) -> tuple[PlannedSegment, ...]:
    """Demo run (each demo label once, in the given order), then ``repetitions`` rounds of the
    labels; ``shuffle`` permutes the whole main run with ``numpy.random.default_rng(seed)``."""
    main = [(code, rep) for rep in range(repetitions) for code in labels]
    if order == "shuffle":
        perm = np.random.default_rng(seed).permutation(len(main))
        main = [main[int(i)] for i in perm]
    runs: list[tuple[Run, str, int]] = [("demo", c, 0) for c in demo_labels]
    runs += [("main", c, rep) for c, rep in main]
    return tuple(
        PlannedSegment(index=i, run=run, label=c, au_numbers=lookup(c).au_numbers, repetition=rep)
        for i, (run, c, rep) in enumerate(runs)
    )


def source_plan_dir() -> Path | None:
    """``config/protocol`` of the source checkout this package runs from, if there is one."""
    d = Path(__file__).resolve().parents[3] / "config" / "protocol"
    return d if d.is_dir() else None


def find_plan(name_or_path: str, *, search_dirs: Sequence[Path] = ()) -> Path:
    """A plan file: an existing path, or ``<name>.yaml`` in ``search_dirs`` then in the source
    checkout's ``config/protocol``. Raises :class:`ConfigError` listing the plans found."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    dirs = [*search_dirs]
    src = source_plan_dir()
    if src is not None:
        dirs.append(src)
    if p.suffix == "" and len(p.parts) == 1:
        for d in dirs:
            if (d / f"{name_or_path}.yaml").is_file():
                return d / f"{name_or_path}.yaml"
    known = sorted({f.stem for d in dirs if d.is_dir() for f in d.glob("*.yaml")})
    raise ConfigError(
        f"plan {name_or_path!r}: no such file, nor a plan of that name in "
        f"{[str(d) for d in dirs]} (known: {', '.join(known) or 'none'})"
    )


def load_plan(path: str | Path) -> SessionPlan:
    """Load and validate a plan file; errors are :class:`ConfigError` naming ``<file>:<line>``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{p}: cannot read plan: {err.strerror}") from err
    return parse_plan(text, source=str(p), base_dir=p.resolve().parent)
