"""``microexp demo``: the whole stack without hardware, step by step, every output kept on disk.

1. simulate N subjects performing the demo plan → one rosbag2 (MCAP) bag each (``bags/``)
2. inspect every bag (``inspect/<subject>.json``)
3. export the bags to a dataset (``dataset/``)
4. train the paper's SNN with leave-one-subject-out CV (``runs/snn/``)
5. evaluate: pooled results, Table-5 layout, confusion matrix (from the run)
6. replay one held-out subject's bag through the streaming engine (``infer/``)
7. write the report (``report/index.html``)

Progress goes through ``echo`` (one line per step with its timings); ``demo.json`` is rewritten
after every step with the timings, the per-subject facts and the headline numbers.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microexp.demo.config import DemoConfig
from microexp.demo.workspace import DemoLayout, prepare_demo_dir
from microexp.errors import MicroexpError

__all__ = ["DemoResult", "StepTiming", "cpu_seconds", "run_demo"]

log = logging.getLogger(__name__)

Echo = Callable[[str], Any]
STEPS = 7


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class StepTiming:
    name: str
    what: str
    wall_s: float = 0.0
    cpu_s: float = 0.0


@dataclass
class DemoResult:
    layout: DemoLayout
    steps: list[StepTiming] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def wall_s(self) -> float:
        return sum(s.wall_s for s in self.steps)

    @property
    def cpu_s(self) -> float:
        return sum(s.cpu_s for s in self.steps)


class _Run:
    def __init__(self, cfg: DemoConfig, layout: DemoLayout, echo: Echo, command: str) -> None:
        self.cfg, self.layout, self.echo = cfg, layout, echo
        self.result = DemoResult(layout)
        self.summary: dict[str, Any] = {
            "command": command, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cpus": os.cpu_count(), "config": _plain(cfg), "steps": [], "subjects": [], "headline": {},
        }  # fmt: skip
        self.result.summary = self.summary
        self._n = 0

    def save(self) -> None:
        self.summary["steps"] = [dataclasses.asdict(s) for s in self.result.steps]
        self.summary["headline"] = self.result.headline
        tmp = self.layout.summary.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.summary, indent=1), encoding="utf-8")
        tmp.replace(self.layout.summary)

    @contextmanager
    def step(self, name: str, what: str) -> Iterator[StepTiming]:
        self._n += 1
        timing = StepTiming(name, what)
        self.echo(f"[{self._n}/{STEPS}] {name}: {what}")
        w0, c0 = time.perf_counter(), cpu_seconds()
        yield timing
        timing.wall_s, timing.cpu_s = time.perf_counter() - w0, cpu_seconds() - c0
        self.result.steps.append(timing)
        self.save()
        self.echo(f"      {name} done in {timing.wall_s:.1f} s (CPU {timing.cpu_s:.1f} s)")


def _plain(obj: Any) -> Any:
    from microexp.dataset.config import config_to_dict

    return config_to_dict(obj)


def run_demo(
    cfg: DemoConfig,
    out: Path,
    *,
    force: bool = False,
    progress: bool = False,
    echo: Echo = lambda _s: None,
    command: str = "microexp demo",
) -> DemoResult:
    """Run the seven steps into ``out`` (see the module docstring)."""
    layout = prepare_demo_dir(out, force=force)
    handler = logging.FileHandler(layout.log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    pkg = logging.getLogger("microexp")
    old_level, console_level = pkg.level, pkg.getEffectiveLevel()
    # demo.log gets INFO; the console keeps the level it had (the steps print their own lines)
    console = [(h, h.level) for h in logging.getLogger().handlers]
    for h, level in console:
        h.setLevel(max(level, console_level))
    pkg.addHandler(handler)
    if console_level > logging.INFO:
        pkg.setLevel(logging.INFO)
    run = _Run(cfg, layout, echo, command)
    try:
        _steps(run, progress=progress)
    finally:
        pkg.removeHandler(handler)
        pkg.setLevel(old_level)
        for h, level in console:
            h.setLevel(level)
        handler.close()
    return run.result


def _steps(run: _Run, *, progress: bool) -> None:
    from microexp.dataset.config import load_export_config
    from microexp.protocol.plan import load_plan

    cfg, lay, echo = run.cfg, run.layout, run.echo
    plan = load_plan(cfg.path(cfg.plan))
    run.summary.update(plan_name=plan.name, labels=list(plan.labels))
    export_cfg = load_export_config(cfg.path(cfg.export_config))
    export_cfg = dataclasses.replace(
        export_cfg, cameras=tuple(c for c in export_cfg.cameras if c.name in cfg.sim.cameras)
    )

    from microexp.demo.simulate import make_jobs, simulate_subjects

    jobs = make_jobs(cfg, lay.bag, progress=progress)
    with run.step("simulate", f"{cfg.subjects} subjects × plan {plan.name} "
                  f"({len(plan.segments)} segments), cameras {', '.join(cfg.sim.cameras)}"):  # fmt: skip
        lay.bags.mkdir(parents=True, exist_ok=True)

        def done(r: Any) -> None:
            echo(f"      {r.subject}: {r.duration_s:.1f} s session, "
                 + ", ".join(f"{c} {n:,} ev" for c, n in r.events.items() if n)
                 + f" ({r.wall_s:.1f} s)")  # fmt: skip

        results = simulate_subjects(jobs, workers=cfg.sim.workers, on_done=done)
        run.summary["subjects"] = [
            {**r.to_json(), "extra_offset_us": dict(j.extra_offsets_us)}
            for r, j in zip(results, jobs, strict=True)
        ]
    bags = [Path(r.bag) for r in results]

    with run.step("inspect", f"{len(bags)} bags → inspect/"):
        from microexp.bagio.inspect import inspect_bag

        lay.inspect.mkdir(parents=True, exist_ok=True)
        for r in results:
            info = inspect_bag(r.bag).to_json()
            (lay.inspect / f"{r.subject}.json").write_text(
                json.dumps(info, indent=1), encoding="utf-8"
            )
            missing = [t for t in _expected_topics(cfg) if t not in info["topics"]]
            if missing:
                raise MicroexpError(f"{r.bag}: topics {missing} missing from the simulated bag")

    with run.step("export", "bags → dataset/ (clips, crops, event frames, manifest, splits)"):
        from microexp.dataset.export import export_bags

        report = export_bags(bags, lay.dataset, config=export_cfg, progress=progress)
        run.summary["export"] = {"text": report.text(), "written": len(report.written),
                                 "rejected": len(report.rejected), "failures": report.failures}  # fmt: skip
        if not report.ok:
            raise MicroexpError(f"export into {lay.dataset} failed: {'; '.join(report.failures)}")
        echo(f"      {len(report.written)} clips, {len(report.rejected)} rejected")

    from microexp.train.config import load_train_config

    tcfg = load_train_config(cfg.path(cfg.train_config))
    tcfg = dataclasses.replace(tcfg, dataset=str(lay.dataset))
    with run.step("train", f"SNN, LOSO over {cfg.subjects} subjects, {tcfg.train.epochs} epochs, "
                  f"{tcfg.train.max_clip_len or 'all'} slices per clip"):  # fmt: skip
        from microexp.demo.train import train_demo

        summary = train_demo(tcfg, lay.run, workers=cfg.sim.workers, echo=echo, progress=progress)

    with run.step("evaluate", "pooled LOSO metrics, Table-5 layout, confusion matrix"):
        res = json.loads((lay.run / "results.json").read_text(encoding="utf-8"))
        k = len(res["classes"])
        run.result.headline.update(
            clips=len(report.written) + len(report.skipped), subjects=cfg.subjects, classes=k,
            epochs=tcfg.train.epochs, top1=res["mean_top1"], top3=res["mean_top3"],
            top1_pooled=res["pooled"]["top1"], chance=1.0 / k,
        )  # fmt: skip
        for f in res["folds"]:
            echo(f"      fold {f['test_subject']}: top-1 {100 * f['top1']:.1f} %, "
                 f"top-3 {100 * f['top3']:.1f} % ({f['n']} clips)")  # fmt: skip
        echo(f"      mean top-1 {100 * res['mean_top1']:.1f} %, top-3 {100 * res['mean_top3']:.1f} % "
             f"(chance {100 / k:.1f} %)")  # fmt: skip
        del summary

    subject, why = _infer_subject(cfg.infer.subject, res, [r.subject for r in results])
    run.result.headline["infer_choice"] = why
    with run.step("infer", f"replay {subject}'s bag ({why}) through the streaming engine"):
        _infer(run, subject, export_cfg.detector.margin, progress=progress)

    with run.step("report", "report/index.html"):
        from microexp.report.demo_report import build_demo_report

        run.save()
        build_demo_report(lay.root)
    run.summary["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    run.save()
    build_demo_report(lay.root, redraw=False)  # the page again, with the report step's timing


def _infer_subject(spec: str, res: dict[str, Any], subjects: list[str]) -> tuple[str, str]:
    """The subject to replay and why (``last``, ``best`` fold by top-1, or named)."""
    if spec == "last":
        return subjects[-1], "the last subject"
    if spec == "best":
        best = max(res["folds"], key=lambda f: (f["top1"], f["top3"]))
        return str(
            best["test_subject"]
        ), f"held out by the fold with the best top-1, {100 * best['top1']:.0f} %"
    if spec not in subjects:
        raise MicroexpError(f"infer.subject: {spec!r} is not one of {subjects}, 'last', 'best'")
    return spec, "named in the config"


def _expected_topics(cfg: DemoConfig) -> list[str]:
    topics = ["/microexp/protocol", "/microexp/session", "/microexp/ground_truth"]
    by_cam = {"davis": ["/davis/events", "/davis/image"], "evk4": ["/evk4/events"],
              "webcam": ["/webcam/image_raw"]}  # fmt: skip
    for cam in cfg.sim.cameras:
        topics += by_cam.get(cam, [])
    return topics


def _infer(run: _Run, subject: str, margin: float, *, progress: bool) -> None:
    from microexp.bagio.reader import open_bag
    from microexp.demo.infer import run_inference
    from microexp.stream.config import load_stream_config

    cfg, lay = run.cfg, run.layout
    ckpt = lay.run / f"fold_{subject}" / "checkpoint.pt"
    if not ckpt.is_file():
        raise MicroexpError(f"infer.subject {subject!r}: no checkpoint {ckpt} (subjects: s01…)")
    bag = lay.bag(subject)
    bar = None
    if progress:
        from tqdm import tqdm

        with open_bag(bag) as reader:
            total = reader.topics["/davis/events"].count
        bar = tqdm(total=total, unit="msg", desc=f"infer {subject}", leave=False, file=sys.stderr)
    last = [0]

    def tick(n: int) -> None:
        if bar is not None and n - last[0] >= 256:
            bar.update(n - last[0])
            last[0] = n

    try:
        scores = run_inference(
            bag=bag, checkpoint=ckpt, dataset=lay.dataset, subject=subject,
            stream=load_stream_config(cfg.path(cfg.infer.stream_config)), backend=cfg.infer.backend,
            box_margin=margin, out_dir=lay.infer, progress=tick,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    run.result.headline.update(
        infer_subject=subject, onset_delay_ms=scores["delay_median_ms"],
        detection_accuracy=scores["detection_accuracy"], stream_top1=scores["top1_accuracy"],
        false_onsets_per_min=scores["false_onsets_per_min"], realtime_factor=scores["realtime_factor"],
        slices=scores["slices"],
    )  # fmt: skip
    run.echo(
        f"      {scores['slices']} slices, {scores['realtime_factor']:.1f}× real time; "
        f"detected {scores['detected']}/{scores['actions']} onsets, median delay "
        f"{_fmt_ms(scores['delay_median_ms'])}, false onsets {scores['false_onsets_per_min']:.1f}/min"
    )


def _fmt_ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0f} ms"
