"""``microexp sim -o BAG --plan PLAN --subject ID``: simulate a recording session into a bag."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from microexp.aus import PAPER_AU_CODES, lookup
from microexp.consent.scope import load_consent
from microexp.errors import ConfigError, OutputExistsError
from microexp.protocol.plan import load_plan
from microexp.sim.bag import seconds_progress, write_session_bag
from microexp.sim.preview import RateCollector, plot_event_rate, render_apex_grid
from microexp.sim.scene import Lighting
from microexp.sim.sensors import SENSOR_NAMES, rig_profiles
from microexp.sim.session import SessionSimConfig, simulate_session

__all__ = ["HELP", "configure", "parse_offsets", "parse_size", "run"]

HELP = "Simulate a session (subject performing a plan) as DAVIS/EVK4/webcam driver messages."
log = logging.getLogger(__name__)


def parse_size(text: str) -> tuple[int, int]:
    """``"320x240"`` -> (320, 240)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as err:
        raise ConfigError(f"--webcam-size: expected WIDTHxHEIGHT, got {text!r}") from err
    if w <= 0 or h <= 0:
        raise ConfigError(f"--webcam-size: sizes must be positive, got {text!r}")
    return w, h


def parse_offsets(items: list[str]) -> dict[str, int]:
    """``["evk4=1500", ...]`` (µs) -> {"evk4": 1500}."""
    out: dict[str, int] = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = int(value)
        except ValueError as err:
            raise ConfigError(
                f"--clock-offset: expected CAMERA=MICROSECONDS, got {item!r}"
            ) from err
    return out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="bag folder to create (must not exist)")
    parser.add_argument("--plan", help="session plan YAML (e.g. config/protocol/demo_3au.yaml)")
    parser.add_argument("--subject", default="sim01", help="subject id (seeds the face)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bag)")
    parser.add_argument(
        "--cameras", default="davis,evk4,webcam", help=f"comma list of {', '.join(SENSOR_NAMES)}"
    )
    parser.add_argument("--webcam-size", default="320x240", help="WIDTHxHEIGHT")
    parser.add_argument("--webcam-fps", type=float, default=30.0)
    parser.add_argument("--webcam-compressed", action="store_true", help="JPEG CompressedImage")
    parser.add_argument("--davis-fps", type=float, default=25.0, help="DAVIS APS frame rate")
    parser.add_argument("--style", choices=["micro", "posed"], default="micro")
    parser.add_argument(
        "--clock-offset", action="append", default=[], metavar="CAMERA=US",
        help="extra sensor clock offset in µs (repeatable), to test synchronisation",
    )  # fmt: skip
    parser.add_argument("--drop-rate", type=float, default=0.0, help="message loss probability")
    parser.add_argument("--light", type=float, default=0.8, help="illumination level (0..1)")
    parser.add_argument("--flicker", type=float, default=0.0, help="100 Hz flicker amplitude")
    parser.add_argument("--no-blinks", action="store_true", help="no spontaneous blinks")
    parser.add_argument("--no-head-motion", action="store_true", help="no head sway")
    parser.add_argument("--chunk-ms", type=int, default=1000, help="streaming chunk length")
    parser.add_argument(
        "--preview", metavar="PNG",
        help="write an apex grid (PNG) and, with a bag, the event-rate plot PNG_rate.png",
    )  # fmt: skip
    parser.add_argument(
        "--preview-labels", default=",".join(PAPER_AU_CODES),
        help="comma list of catalog codes in the apex grid (default: the paper's 21 AUs)",
    )  # fmt: skip
    parser.add_argument(
        "--consent", metavar="YAML", type=Path,
        help="the consent record to write (default: a simulated subject's, every modality and use)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if not args.output and not args.preview:
        raise ConfigError("nothing to do: give -o BAG and/or --preview PNG")
    config = SessionSimConfig(
        args.subject, seed=args.seed, style=args.style,
        lighting=Lighting(level=args.light, flicker_amp=args.flicker),
        blinks=not args.no_blinks, head_motion=not args.no_head_motion,
        consent=load_consent(args.consent) if args.consent else None,
    )  # fmt: skip
    if args.preview:
        from microexp.sim.subject import Subject

        codes = [c.strip() for c in args.preview_labels.split(",") if c.strip()]
        grid = [(lookup(c, where="--preview-labels").code, lookup(c).au_numbers) for c in codes]
        png = render_apex_grid(
            args.preview, subject=Subject.from_seed(args.subject, seed=args.seed), labels=grid,
            seed=args.seed,
        )  # fmt: skip
        print(f"apex grid: {png}")
    if not args.output:
        return 0
    if not args.plan:
        raise ConfigError("--plan is required to write a bag")
    out = Path(args.output)
    if out.exists():
        raise OutputExistsError(f"{out}: exists already, not overwriting")
    names = [n.strip() for n in args.cameras.split(",") if n.strip()]
    if not names:
        raise ConfigError("--cameras: no camera given")
    plan = load_plan(args.plan)
    session = simulate_session(plan, config)
    sensors = rig_profiles(
        names, start_ns=session.start_ns, offsets_us=parse_offsets(args.clock_offset),
        drop_rate=args.drop_rate, webcam_size=parse_size(args.webcam_size),
        webcam_fps=args.webcam_fps, davis_aps_fps=args.davis_fps,
    )  # fmt: skip
    rates = RateCollector(offsets_us={s.name: s.clock_offset_us for s in sensors})
    with seconds_progress(
        session.scene.duration_us, desc=f"sim {args.subject}", enabled=not args.no_progress
    ) as progress:
        summary = write_session_bag(
            out, session, sensors, seed=args.seed, chunk_us=args.chunk_ms * 1000,
            compressed_webcam=args.webcam_compressed, progress=progress, on_chunk=rates,
        )  # fmt: skip
    print(
        f"wrote {out}: {summary.duration_s:.1f} s session, plan {plan.name}, "
        f"subject {args.subject}, seed {args.seed}"
    )
    for topic, n in summary.messages.items():
        print(f"  {topic}: {n} messages")
    for cam, n in summary.events.items():
        if n:
            print(f"  {cam}: {n:,} events")
    if any(summary.dropped.values()):
        print(f"  dropped: {summary.dropped}")
    if args.preview:
        rate_png = Path(args.preview).with_name(Path(args.preview).stem + "_rate.png")
        plot_event_rate(
            rate_png, rates=rates.rates(), segments=session.segments, start_ns=session.start_ns,
            title=f"{plan.name}, subject {args.subject}: event rate (perform windows shaded)",
        )  # fmt: skip
        print(f"event-rate plot: {rate_png}")
    return 0
