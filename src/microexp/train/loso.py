"""Leave-one-subject-out training and evaluation (``microexp train``).

For each fold (test subject) a fresh model is trained on the other subjects' clips with the
configured recipe, checkpointed after every epoch, and evaluated on the held-out subject's clips.
Run directory layout::

    RUNDIR/config.yaml              resolved config (classes and model sizes filled in)
    RUNDIR/train.log                log of the run (config, pooled results)
    RUNDIR/fold_<subject>/checkpoint.pt   config, classes, model_state, optimizer, scheduler,
                                    epoch, history, done, metrics (rebuilds the model alone)
    RUNDIR/fold_<subject>/predictions.csv
    RUNDIR/fold_<subject>/train.log the fold's log (epochs, result)
    RUNDIR/results.json, folds.csv, per_class.csv, confusion.csv/.png, table5.md/.csv

Each fold is a job (:func:`train_fold`): :func:`plan_loso` lists them, an executor runs them (in
this process one after the other by default, on Ray side by side), and the pooled tables are
written from their results in fold order. Resume (``resume=True``) skips finished folds and
continues an interrupted one from its last completed epoch; seeds are derived per (fold, epoch),
so a resumed run, or one whose folds ran elsewhere in any order, equals an uninterrupted
sequential one.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from microexp.aus import MOVEMENT_CODES, PAPER_AU_CODES
from microexp.dataset.torch_dataset import (
    CHANNELS,
    ClipDataset,
    ClipInfo,
    collate_clips,
    loso_folds,
    read_clips,
)
from microexp.distributed.jobs import Executor, InProcessExecutor, Job
from microexp.errors import ConfigError
from microexp.models.registry import build_model
from microexp.train.config import TrainConfig, config_to_dict
from microexp.train.metrics import classification_metrics, topk_accuracy
from microexp.train.plan import RunPlan, run_plans
from microexp.train.report import save_confusion, write_result_tables
from microexp.train.rundir import open_run_dir, run_log
from microexp.train.synthetic import SyntheticSpec, write_synthetic_dataset

__all__ = [
    "EpochCallback",
    "evaluate",
    "fold_model",
    "model_scores",
    "plan_loso",
    "prepare_dataset",
    "resolve_classes",
    "resolve_device",
    "resolved_config",
    "save_checkpoint",
    "train_epoch",
    "train_fold",
    "train_loso",
    "training_loss",
]

log = logging.getLogger(__name__)

EpochCallback = Callable[[str, int, dict[str, float]], None]
"""Called after each epoch with (test subject, epoch number from 1, epoch stats)."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: cuda requested but no CUDA device is available")
    return torch.device(name)


def prepare_dataset(cfg: TrainConfig) -> Path:
    """The dataset directory; generated first when the config has a ``synthetic`` section."""
    root = Path(cfg.dataset)
    if cfg.synthetic is not None and not (root / "manifest.csv").is_file():
        s = cfg.synthetic
        spec = SyntheticSpec(
            subjects=s.subjects, labels=s.labels, clips_per_label=s.clips_per_label,
            t_min=s.t_min, t_max=s.t_max, rgb_camera=s.rgb_camera, seed=s.seed,
            event_cameras=(cfg.camera,) if cfg.modality == "events" else ("davis",),
        )  # fmt: skip
        log.info("writing synthetic dataset to %s", root)
        write_synthetic_dataset(root, spec)
    if not (root / "manifest.csv").is_file():
        raise ConfigError(f"dataset: {root} has no manifest.csv")
    return root


def resolve_classes(spec: str | Sequence[str], clips: Sequence[ClipInfo]) -> tuple[str, ...]:
    """Class list: explicit, the paper's 21 AUs, the report's 7 movements, or the dataset's labels
    (in catalog order where the catalog knows them)."""
    if not isinstance(spec, str):
        return tuple(spec)
    if spec == "paper":
        return PAPER_AU_CODES
    if spec == "report":
        return MOVEMENT_CODES
    present = {c.label for c in clips}
    order = {c: i for i, c in enumerate((*PAPER_AU_CODES, *MOVEMENT_CODES))}
    return tuple(sorted(present, key=lambda c: (order.get(c, len(order)), c)))


def model_scores(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``[N, K]``: time-averaged outputs of a spiking model, logits of the 3D-CNN."""
    rates = getattr(model, "rates", None)
    out: torch.Tensor = rates(x, lengths) if callable(rates) else model(x)
    return out


def training_loss(
    model: nn.Module, scores: torch.Tensor, y: torch.Tensor, kind: str
) -> torch.Tensor:
    """MSE to the one-hot label (of the rates; of softmax for logits models) or cross-entropy."""
    if kind == "ce":
        return F.cross_entropy(scores, y)
    target = F.one_hot(y, scores.shape[1]).to(scores.dtype)
    probs = scores if getattr(model, "output_kind", "logits") == "rate" else scores.softmax(1)
    return F.mse_loss(probs, target)


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: DataLoader[Any], device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """``(scores [N, K], labels [N])`` over ``loader`` in eval mode."""
    model.eval()
    scores, labels = [], []
    for x, lengths, y in loader:
        scores.append(model_scores(model, x.to(device), lengths.to(device)).float().cpu().numpy())
        labels.append(y.numpy())
    k = getattr(model, "num_classes", 0)
    if not scores:
        return np.zeros((0, k), np.float32), np.zeros(0, np.int64)
    return np.concatenate(scores), np.concatenate(labels)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Atomic ``torch.save`` (temporary file + rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _seed(cfg: TrainConfig, fold_index: int, epoch: int) -> int:
    return cfg.seed * 1_000_003 + fold_index * 1009 + epoch


def resolved_config(cfg: TrainConfig, classes: Sequence[str]) -> dict[str, Any]:
    """The config as stored with every checkpoint: classes, num_classes, in_channels filled in."""
    d: dict[str, Any] = config_to_dict(cfg)
    d["classes"] = list(classes)
    model = dict(cfg.model)
    model.setdefault("num_classes", len(classes))
    if model.get("name") != "cvae":
        model.setdefault("in_channels", CHANNELS[cfg.modality])
    if "dropout" not in model and model.get("name") in ("snn", "c3d", "sew"):
        model["dropout"] = 0.2
    d["model"] = model
    return d


def fold_model(
    cfg: TrainConfig, resolved: dict[str, Any], fold_index: int, device: torch.device
) -> tuple[nn.Module, torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """A fold's fresh model (seeded by the fold's index), its Adam optimizer and scheduler."""
    r = cfg.train
    torch.manual_seed(_seed(cfg, fold_index, 0))
    model = build_model(resolved["model"], where="config: model").to(device)
    opt = torch.optim.Adam(model.parameters(), lr=r.lr, weight_decay=r.weight_decay)
    sched = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=r.epochs)
        if r.scheduler == "cosine"
        else None
    )
    return model, opt, sched


def train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler | None,
    train_ds: ClipDataset,
    *,
    cfg: TrainConfig,
    fold_index: int,
    epoch: int,
    device: torch.device,
    desc: str = "",
    progress: bool = False,
) -> dict[str, float]:
    """Epoch ``epoch`` (from 0) of a fold: shuffled and seeded by (fold, epoch); its stats."""
    r = cfg.train
    seed = _seed(cfg, fold_index, epoch + 1)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_ds, batch_size=r.batch_size, shuffle=True, generator=gen,
                        collate_fn=collate_clips, num_workers=r.num_workers)  # fmt: skip
    model.train()
    total, clips, t0 = 0.0, 0, time.perf_counter()
    bar = tqdm(loader, desc=desc, disable=not progress, leave=False)
    for steps, (x, lengths, y) in enumerate(bar, start=1):
        x, lengths, y = x.to(device), lengths.to(device), y.to(device)
        loss = training_loss(model, model_scores(model, x, lengths), y, r.loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.item() * len(y)
        clips += len(y)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if r.max_steps_per_epoch is not None and steps >= r.max_steps_per_epoch:
            break
    if sched is not None:
        sched.step()
    dt = time.perf_counter() - t0
    return {"epoch": epoch + 1, "loss": total / max(clips, 1), "clips_per_s": clips / dt,
            "seconds": dt, "lr": opt.param_groups[0]["lr"]}  # fmt: skip


def train_fold(
    *,
    cfg: TrainConfig,
    resolved: dict[str, Any],
    classes: tuple[str, ...],
    root: Path,
    fold_index: int,
    subject: str,
    train_ids: Sequence[str],
    test_ids: Sequence[str],
    fold_dir: Path,
    progress: bool = False,
    on_epoch_end: EpochCallback | None = None,
) -> dict[str, Any]:
    """One LOSO fold, a job of its own: train (resuming from ``fold_dir/checkpoint.pt``), evaluate,
    write ``checkpoint.pt`` and ``predictions.csv``, log into ``fold_dir/train.log``; return the
    fold's result. Its seeds depend only on ``cfg.seed``, ``fold_index`` and the epoch, so it
    gives the same result in any process, in any order, resumed or not."""
    fold_dir.mkdir(parents=True, exist_ok=True)
    with run_log(fold_dir):
        return _train_fold(cfg, resolved, classes, root, fold_index, subject, train_ids, test_ids,
                           fold_dir, resolve_device(cfg.device), progress=progress,
                           on_epoch_end=on_epoch_end)  # fmt: skip


def _train_fold(
    cfg: TrainConfig,
    resolved: dict[str, Any],
    classes: tuple[str, ...],
    root: Path,
    fold_index: int,
    subject: str,
    train_ids: Sequence[str],
    test_ids: Sequence[str],
    fold_dir: Path,
    device: torch.device,
    *,
    progress: bool,
    on_epoch_end: EpochCallback | None,
) -> dict[str, Any]:
    r = cfg.train
    ckpt_path = fold_dir / "checkpoint.pt"
    common = {
        "camera": cfg.camera,
        "modality": cfg.modality,
        "classes": classes,
        "max_len": r.max_clip_len,
    }
    train_ds = ClipDataset(root, clip_ids=train_ids, crop=r.crop, **common)  # type: ignore[arg-type]
    test_ds = ClipDataset(root, clip_ids=test_ids, crop="center", **common)  # type: ignore[arg-type]
    model, opt, sched = fold_model(cfg, resolved, fold_index, device)
    start_epoch, history = 0, []
    if ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        if ckpt.get("done"):
            log.info("fold %s: already done, skipped", subject)
            return dict(ckpt["result"])
        model.load_state_dict(ckpt["model_state"])
        opt.load_state_dict(ckpt["optimizer"])
        if sched is not None and ckpt.get("scheduler") is not None:
            sched.load_state_dict(ckpt["scheduler"])
        start_epoch, history = int(ckpt["epoch"]), list(ckpt["history"])
        log.info("fold %s: resuming after epoch %d", subject, start_epoch)
    log.info("fold %s: %d train clips, %d test clips", subject, len(train_ds), len(test_ds))

    def payload(epoch: int, done: bool, result: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "format": 1, "config": resolved, "classes": list(classes), "test_subject": subject,
            "model_state": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": None if sched is None else sched.state_dict(), "epoch": epoch,
            "history": history, "done": done, "result": result,
        }  # fmt: skip

    for epoch in range(start_epoch, r.epochs):
        stats = train_epoch(model, opt, sched, train_ds, cfg=cfg, fold_index=fold_index, epoch=epoch,
                            device=device, desc=f"fold {subject} epoch {epoch + 1}/{r.epochs}",
                            progress=progress)  # fmt: skip
        if r.eval_every_epoch:  # test accuracy per epoch, for the "best over epochs" rows
            s, lab = evaluate(model, DataLoader(test_ds, batch_size=r.eval_batch_size,
                                                collate_fn=collate_clips), device)  # fmt: skip
            stats.update({f"test_top{k}": topk_accuracy(s, lab, k) for k in (1, 3, 5)})
        history.append(stats)
        log.info(
            "fold %s epoch %d: loss %.4f, %.1f clips/s",
            subject,
            epoch + 1,
            stats["loss"],
            stats["clips_per_s"],
        )
        save_checkpoint(ckpt_path, payload(epoch + 1, False))
        if on_epoch_end is not None:
            on_epoch_end(subject, epoch + 1, stats)

    eval_loader = DataLoader(test_ds, batch_size=r.eval_batch_size, collate_fn=collate_clips)
    scores, labels = evaluate(model, eval_loader, device)
    metrics = classification_metrics(scores, labels, classes)
    with (fold_dir / "predictions.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["clip_id", "subject", "label", "predicted", *(f"score_{c}" for c in classes)])
        for info, s, y in zip(test_ds.clips, scores, labels, strict=True):
            w.writerow(
                [
                    info.clip_id,
                    info.subject,
                    classes[y],
                    classes[int(np.argmax(s))],
                    *(f"{v:.6g}" for v in s),
                ]
            )
    result = {"test_subject": subject, "metrics": metrics, "scores": scores.tolist(), "labels": labels.tolist(),
              "history": history}  # fmt: skip
    save_checkpoint(ckpt_path, payload(r.epochs, True, result))
    log.info(
        "fold %s: top-1 %.3f top-3 %.3f (%d clips)",
        subject,
        metrics["top1"],
        metrics["top3"],
        metrics["n"],
    )
    return result


def _select_folds(cfg: TrainConfig, root: Path, clips: Sequence[ClipInfo]) -> list[tuple[int, Any]]:
    folds = list(enumerate(loso_folds(root, clips)))
    if cfg.folds == "all":
        return folds
    if isinstance(cfg.folds, str):
        raise ConfigError(f"folds: {cfg.folds!r} is neither 'all' nor a list of subjects")
    known = {f.test_subject for _, f in folds}
    unknown = sorted(set(cfg.folds) - known)
    if unknown:
        raise ConfigError(f"folds: unknown test subject(s) {unknown} (dataset has {sorted(known)})")
    return [(i, f) for i, f in folds if f.test_subject in cfg.folds]


def plan_loso(
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = False,
    on_epoch_end: EpochCallback | None = None,
) -> RunPlan:
    """Open the run directory, write its config and return one job per selected fold plus the
    step that pools their results (tables, confusion matrix) once they are all in."""
    out = open_run_dir(out_dir, resume=resume)
    root = prepare_dataset(cfg)
    clips = read_clips(root)
    classes = resolve_classes(cfg.classes, clips)
    resolved = resolved_config(cfg, classes)
    cfg_path = out / "config.yaml"
    if resume and cfg_path.is_file():
        saved = yaml.safe_load(cfg_path.read_text())
        if saved != resolved:
            changed = sorted(
                k for k in set(saved) | set(resolved) if saved.get(k) != resolved.get(k)
            )
            raise ConfigError(f"{cfg_path}: --resume with a different config (keys {changed})")
    cfg_path.write_text(yaml.safe_dump(resolved, sort_keys=False))
    jobs = []
    for fold_index, fold in _select_folds(cfg, root, clips):
        if not fold.train or not fold.test:
            log.warning("fold %s: empty train or test set, skipped", fold.test_subject)
            continue
        jobs.append(Job(
            key=f"{out.name}/fold_{fold.test_subject}", fn=train_fold, gpu=cfg.device != "cpu",
            kwargs={"cfg": cfg, "resolved": resolved, "classes": classes, "root": root,
                    "fold_index": fold_index, "subject": fold.test_subject,
                    "train_ids": list(fold.train), "test_ids": list(fold.test),
                    "fold_dir": out / f"fold_{fold.test_subject}", "progress": progress,
                    "on_epoch_end": on_epoch_end},
        ))  # fmt: skip
    if not jobs:
        raise ConfigError(f"dataset {root}: no fold has both train and test clips")
    with run_log(out):
        log.info("config: %s", json.dumps(resolved))
        log.info("%d classes, dataset %s, %d fold job(s)", len(classes), root, len(jobs))

    def finish(results: list[Any]) -> dict[str, Any]:
        with run_log(out):
            return _summarise(out, resolved, classes, results)

    return RunPlan(name=str(out), jobs=jobs, finish=finish)


def train_loso(
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: EpochCallback | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Train and evaluate every selected LOSO fold; write the run directory; return the results.

    ``executor``: where the folds run (default: one after the other in this process; a
    :class:`~microexp.distributed.ray_executor.RayExecutor` runs them side by side). The results
    are the same either way. ``on_epoch_end`` is called where the fold runs.
    """
    plan = plan_loso(cfg, out_dir, resume=resume, progress=progress, on_epoch_end=on_epoch_end)
    return run_plans([plan], executor or InProcessExecutor())[0]


def _summarise(
    out: Path, resolved: dict[str, Any], classes: tuple[str, ...], results: list[dict[str, Any]]
) -> dict[str, Any]:
    top1 = np.array([r["metrics"]["top1"] for r in results])
    top3 = np.array([r["metrics"]["top3"] for r in results])
    scores = np.concatenate(
        [np.asarray(r["scores"], np.float64).reshape(-1, len(classes)) for r in results]
    )
    labels = np.concatenate([np.asarray(r["labels"], np.int64) for r in results])
    pooled = classification_metrics(scores, labels, classes)
    summary = {
        "model": resolved["model"]["name"], "modality": resolved["modality"], "classes": list(classes),
        "folds": [{"test_subject": r["test_subject"], "top1": r["metrics"]["top1"], "top3": r["metrics"]["top3"],
                   "n": r["metrics"]["n"]} for r in results],
        "mean_top1": float(top1.mean()), "std_top1": float(top1.std()),
        "mean_top3": float(top3.mean()), "std_top3": float(top3.std()),
        "pooled": pooled,
    }  # fmt: skip
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    with (out / "folds.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["test_subject", "clips", "top1", "top3"])
        for r in summary["folds"]:
            w.writerow([r["test_subject"], r["n"], f"{r['top1']:.4f}", f"{r['top3']:.4f}"])
        w.writerow(["mean", len(labels), f"{top1.mean():.4f}", f"{top3.mean():.4f}"])
    with (out / "per_class.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["class", "clips", "accuracy"])
        for c in classes:
            acc = pooled["per_class"][c]  # type: ignore[index]
            w.writerow([c, pooled["support"][c], "" if np.isnan(acc) else f"{acc:.4f}"])  # type: ignore[index]
    save_confusion(out / "confusion", np.asarray(pooled["confusion"]), classes,
                   title=f"{summary['model']} {summary['modality']}: LOSO, pooled over folds")  # fmt: skip
    write_result_tables(out, summary, model_config=resolved["model"], results=results)
    log.info(
        "LOSO mean top-1 %.4f ± %.4f, top-3 %.4f",
        summary["mean_top1"],
        summary["std_top1"],
        summary["mean_top3"],
    )
    return summary
