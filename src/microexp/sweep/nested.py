"""Nested leave-one-subject-out sweeps on Ray Tune (``microexp sweep``).

For every outer fold (a held-out test subject) Ray Tune tries the sweep's configurations on the
*inner* folds only: each trial trains one model per remaining subject (leave one inner subject
out for validation) epoch by epoch and reports the mean inner validation top-1 after every epoch,
so ASHA can stop weak configurations early. The held-out subject's clips never reach a trial. The
configuration with the best inner score among those that ran all epochs (ties: the first drawn)
is then trained on all inner subjects and tested once on the held-out subject: a regular LOSO fold
job (:func:`microexp.train.loso.train_fold`) on the executor. Run directory::

    OUT/outer_<s>/selection.json   every trial (configuration, inner top-1, epochs run), the winner
    OUT/outer_<s>/test/            the winner's fold (checkpoint.pt, predictions.csv, train.log)
    OUT/tune/outer_<s>/            Ray Tune's experiment directory
    OUT/sweep.csv, report.md, sweep.png, results.json   (:mod:`.report`)

Resume skips outer folds whose selection is saved; the test folds resume from their checkpoints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from torch.utils.data import DataLoader

from microexp.dataset.torch_dataset import ClipDataset, collate_clips, loso_folds, read_clips
from microexp.distributed.cluster import RayOptions
from microexp.distributed.jobs import Executor, Job
from microexp.distributed.ray_executor import prepare_worker
from microexp.errors import ConfigError
from microexp.sweep.config import SweepConfig, apply_params, sample_configs
from microexp.sweep.report import write_sweep_report
from microexp.train.config import TrainConfig
from microexp.train.loso import (
    evaluate,
    fold_model,
    prepare_dataset,
    resolve_classes,
    resolve_device,
    resolved_config,
    train_epoch,
    train_fold,
)
from microexp.train.metrics import classification_metrics
from microexp.train.rundir import open_run_dir, run_log

__all__ = ["METRIC", "inner_trial", "run_sweep"]

log = logging.getLogger(__name__)

METRIC = "inner_top1"
"""What Tune maximises: the mean top-1 over the inner validation subjects."""

InnerFold = tuple[int, str, list[str], list[str]]  # (fold index, validation subject, train, val)


def inner_trial(
    config: dict[str, Any],
    *,
    base: TrainConfig,
    root: str,
    classes: tuple[str, ...],
    inner: Sequence[InnerFold],
    configs: Sequence[dict[str, Any]],
    cpus: int,
) -> None:
    """A Tune trial: configuration ``configs[config["sample"]]`` on the inner folds, epoch by
    epoch, reporting the mean inner validation top-1 / top-3 and the training loss."""
    prepare_worker(cpus, on_gpu=False)
    cfg = apply_params(base, configs[int(config["sample"])])
    resolved = resolved_config(cfg, classes)
    device = resolve_device(cfg.device)
    common = {"camera": cfg.camera, "modality": cfg.modality, "classes": classes,
              "max_len": cfg.train.max_clip_len}  # fmt: skip
    folds = []
    for index, _subject, train_ids, val_ids in inner:
        train_ds = ClipDataset(Path(root), clip_ids=train_ids, crop=cfg.train.crop, **common)  # type: ignore[arg-type]
        val_ds = ClipDataset(Path(root), clip_ids=val_ids, crop="center", **common)  # type: ignore[arg-type]
        folds.append((index, train_ds, val_ds, *fold_model(cfg, resolved, index, device)))
    for epoch in range(cfg.train.epochs):
        top1: list[float] = []
        top3: list[float] = []
        losses: list[float] = []
        for index, train_ds, val_ds, model, opt, sched in folds:
            stats = train_epoch(model, opt, sched, train_ds, cfg=cfg, fold_index=index,
                                epoch=epoch, device=device)  # fmt: skip
            loader = DataLoader(
                val_ds, batch_size=cfg.train.eval_batch_size, collate_fn=collate_clips
            )
            m = classification_metrics(*evaluate(model, loader, device), classes)
            top1.append(float(m["top1"]))  # type: ignore[arg-type]
            top3.append(float(m["top3"]))  # type: ignore[arg-type]
            losses.append(stats["loss"])
        tune.report({METRIC: float(np.mean(top1)), "inner_top3": float(np.mean(top3)),
                     "loss": float(np.mean(losses)), "epoch": epoch + 1})  # fmt: skip


def _select(trials: list[dict[str, Any]], epochs: int) -> dict[str, Any]:
    full = [t for t in trials if t["epochs"] == epochs] or trials
    return max(full, key=lambda t: (t[METRIC], -t["sample"]))


def _tune_outer(
    cfg: SweepConfig, out: Path, subject: str, inner: list[InnerFold], root: Path,
    classes: tuple[str, ...], configs: list[dict[str, Any]], options: RayOptions, workers: int,
) -> dict[str, Any]:  # fmt: skip
    epochs = cfg.train.train.epochs
    trainable = tune.with_resources(
        tune.with_parameters(inner_trial, base=cfg.train, root=str(root), classes=classes,
                             inner=inner, configs=configs, cpus=options.cpus_per_job),
        {"cpu": options.cpus_per_job},
    )  # fmt: skip
    s = cfg.scheduler
    scheduler = (
        ASHAScheduler(time_attr="training_iteration", max_t=epochs, grace_period=min(s.grace_epochs, epochs),
                      reduction_factor=s.reduction_factor)
        if s.name == "asha" else FIFOScheduler()
    )  # fmt: skip
    tuner = tune.Tuner(
        trainable,
        param_space={"sample": tune.grid_search(list(range(len(configs))))},
        tune_config=tune.TuneConfig(metric=METRIC, mode="max", scheduler=scheduler,
                                    max_concurrent_trials=workers),
        run_config=tune.RunConfig(name=f"outer_{subject}", storage_path=str((out / "tune").resolve()),
                                  verbose=0, failure_config=tune.FailureConfig(max_failures=options.max_retries)),
    )  # fmt: skip
    grid = tuner.fit()
    if grid.errors:
        raise ConfigError(
            f"sweep outer fold {subject}: {len(grid.errors)} trial(s) failed: {grid.errors[0]}"
        )
    trials: list[dict[str, Any]] = []
    for k in range(len(grid)):
        r = grid[k]
        if r.config is None or r.metrics is None:
            raise ConfigError(f"sweep outer fold {subject}: trial {k} reported nothing")
        sample = int(r.config["sample"])
        trials.append({"sample": sample, "params": configs[sample], METRIC: float(r.metrics[METRIC]),
                       "inner_top3": float(r.metrics["inner_top3"]), "loss": float(r.metrics["loss"]),
                       "epochs": int(r.metrics["training_iteration"])})  # fmt: skip
    trials.sort(key=lambda t: t["sample"])
    best = _select(trials, epochs)
    return {"outer_subject": subject, "inner_subjects": [f[1] for f in inner], "trials": trials,
            "winner": best["sample"], "params": best["params"], METRIC: best[METRIC]}  # fmt: skip


def run_sweep(
    cfg: SweepConfig, out_dir: str | Path, *, executor: Executor, options: RayOptions,
    workers: int, resume: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Run the nested-LOSO sweep into ``out_dir`` (needs an open Ray session); return the results."""
    out = open_run_dir(out_dir, resume=resume)
    root = prepare_dataset(cfg.train)
    clips = read_clips(root)
    classes = resolve_classes(cfg.train.classes, clips)
    subject_of = {c.clip_id: c.subject for c in clips}
    folds = [(i, f) for i, f in enumerate(loso_folds(root, clips)) if f.train and f.test]
    if cfg.outer_folds != "all":
        known = {f.test_subject for _, f in folds}
        if isinstance(cfg.outer_folds, str) or not set(cfg.outer_folds) <= known:
            raise ConfigError(
                f"outer_folds: {cfg.outer_folds!r} is neither 'all' nor a list of {sorted(known)}"
            )
        folds = [(i, f) for i, f in folds if f.test_subject in cfg.outer_folds]
    configs = sample_configs(cfg)
    index_of = {f.test_subject: i for i, f in enumerate(loso_folds(root, clips))}
    selections, jobs = [], []
    with run_log(out):
        log.info(
            "sweep: %d configurations × %d outer folds, base %s",
            len(configs),
            len(folds),
            cfg.train_path,
        )
        for outer_index, fold in folds:
            s = fold.test_subject
            sel_path = out / f"outer_{s}" / "selection.json"
            if resume and sel_path.is_file():
                sel = json.loads(sel_path.read_text())
                log.info("outer fold %s: selection already done (sample %d)", s, sel["winner"])
            else:
                inner_subjects = sorted({subject_of[c] for c in fold.train})
                if len(inner_subjects) < 2:
                    raise ConfigError(f"dataset {root}: nested LOSO needs >= 3 subjects")
                inner = [(index_of[v], v, [c for c in fold.train if subject_of[c] != v],
                          [c for c in fold.train if subject_of[c] == v]) for v in inner_subjects]  # fmt: skip
                sel = _tune_outer(cfg, out, s, inner, root, classes, configs, options, workers)
                sel_path.parent.mkdir(parents=True, exist_ok=True)
                sel_path.write_text(json.dumps(sel, indent=1))
                log.info(
                    "outer fold %s: sample %d wins, inner top-1 %.4f", s, sel["winner"], sel[METRIC]
                )
            selections.append(sel)
            best = apply_params(cfg.train, sel["params"])
            jobs.append(Job(key=f"outer_{s}/test", fn=train_fold, gpu=best.device != "cpu", kwargs={
                "cfg": best, "resolved": resolved_config(best, classes), "classes": classes, "root": root,
                "fold_index": outer_index, "subject": s, "train_ids": list(fold.train),
                "test_ids": list(fold.test), "fold_dir": out / f"outer_{s}" / "test"}))  # fmt: skip
        tests = executor.run(jobs)
        return write_sweep_report(out, selections=selections, tests=tests, configs=configs,
                                  search=[p.name for p in cfg.search], base=cfg.train_path)  # fmt: skip
