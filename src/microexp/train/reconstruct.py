"""cVAE frame reconstruction per event camera (``microexp reconstruct``), the paper's Table 6.

Pairs: condition = accumulated event frame of ``event_camera``, target = grey face crop of
``target_camera`` (see :class:`~microexp.dataset.torch_dataset.ReconstructionPairs`). Folds are
leave-one-subject-out like classification, one job each (:func:`reconstruct_fold`). Evaluation reconstructs from the condition alone
(z = 0, the prior mean — what is available at inference) and reports MSE, RMSE, MAE, PSNR, SSIM,
NCC; the posterior reconstruction (z = μ(x, c), which sees the target) is reported beside it,
labelled. Run directory: ``config.yaml``, ``fold_<subject>/checkpoint.pt``,
``fold_<subject>/grid.png`` (events | reconstruction | ground truth), ``results.json``,
``table6.md`` / ``table6.csv``, ``train.log``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from microexp.dataset.torch_dataset import ReconstructionPairs, loso_folds, read_clips
from microexp.distributed.jobs import Executor, InProcessExecutor, Job
from microexp.errors import ConfigError
from microexp.models.cvae import CVAE, cvae_loss
from microexp.models.registry import build_model
from microexp.train.config import ReconstructConfig, config_to_dict
from microexp.train.loso import resolve_device, save_checkpoint
from microexp.train.metrics import reconstruction_metrics
from microexp.train.plan import RunPlan, run_plans
from microexp.train.report import save_image_grid, write_table6
from microexp.train.rundir import open_run_dir, run_log
from microexp.train.synthetic import SyntheticSpec, write_synthetic_dataset

__all__ = ["plan_reconstruction", "reconstruct_fold", "train_reconstruction"]

log = logging.getLogger(__name__)


def _prepare(cfg: ReconstructConfig) -> Path:
    root = Path(cfg.dataset)
    if cfg.synthetic is not None and not (root / "manifest.csv").is_file():
        s = cfg.synthetic
        write_synthetic_dataset(root, SyntheticSpec(
            subjects=s.subjects, labels=s.labels, clips_per_label=s.clips_per_label, t_min=s.t_min,
            t_max=s.t_max, seed=s.seed, event_cameras=(cfg.event_camera,), grey_camera=cfg.target_camera,
        ))  # fmt: skip
    if not (root / "manifest.csv").is_file():
        raise ConfigError(f"dataset: {root} has no manifest.csv")
    return root


@torch.no_grad()
def _reconstruct(
    model: CVAE, loader: DataLoader[Any], device: torch.device
) -> tuple[np.ndarray, ...]:
    model.eval()
    conds, prior, post, targets = [], [], [], []
    for c, x in loader:
        c, x = c.to(device), x.to(device)
        prior.append(model.reconstruct(c).cpu().numpy()[:, 0])
        post.append(model(x, c)[0].cpu().numpy()[:, 0])
        conds.append(c.cpu().numpy())
        targets.append(x.cpu().numpy()[:, 0])
    return tuple(np.concatenate(a) for a in (conds, prior, post, targets))


def _pairs(cfg: ReconstructConfig, root: Path) -> ReconstructionPairs:
    return ReconstructionPairs(root, event_camera=cfg.event_camera, target_camera=cfg.target_camera,
                               window_slices=cfg.window_slices, cap=cfg.cap)  # fmt: skip


def reconstruct_fold(*, cfg: ReconstructConfig, resolved: dict[str, Any], root: Path, subject: str,
                     fold_index: int, fold_dir: Path, progress: bool = False) -> dict[str, Any]:  # fmt: skip
    """One fold, a job of its own: reads the pairs from ``root``, trains (resuming from
    ``fold_dir/checkpoint.pt``), evaluates, writes the grid; returns the fold's metrics."""
    fold_dir.mkdir(parents=True, exist_ok=True)
    with run_log(fold_dir):
        return _fold(cfg, resolved, _pairs(cfg, root), subject, fold_index, fold_dir,
                     resolve_device(cfg.device), progress)  # fmt: skip


def _fold(cfg: ReconstructConfig, resolved: dict[str, Any], pairs: ReconstructionPairs, subject: str,
          fold_index: int, fold_dir: Path, device: torch.device, progress: bool) -> dict[str, Any]:  # fmt: skip
    train_idx = [i for i, s in enumerate(pairs.subjects) if s != subject]
    test_idx = [i for i, s in enumerate(pairs.subjects) if s == subject]
    ckpt_path = fold_dir / "checkpoint.pt"
    torch.manual_seed(cfg.seed * 1_000_003 + fold_index * 1009)
    model = build_model(resolved["model"], where="config: model").to(device)
    assert isinstance(model, CVAE)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start, history = 0, []
    if ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        if ckpt.get("done"):
            return dict(ckpt["result"])
        model.load_state_dict(ckpt["model_state"])
        opt.load_state_dict(ckpt["optimizer"])
        start, history = int(ckpt["epoch"]), list(ckpt["history"])
    log.info("fold %s: %d train pairs, %d test pairs", subject, len(train_idx), len(test_idx))

    def payload(epoch: int, done: bool, result: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"format": 1, "config": resolved, "test_subject": subject, "model_state": model.state_dict(),
                "optimizer": opt.state_dict(), "epoch": epoch, "history": history, "done": done,
                "result": result}  # fmt: skip

    for epoch in range(start, cfg.epochs):
        seed = cfg.seed * 1_000_003 + fold_index * 1009 + epoch + 1
        torch.manual_seed(seed)
        loader = DataLoader(Subset(pairs, train_idx), batch_size=cfg.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))  # fmt: skip
        model.train()
        t0, tot, n, steps = time.perf_counter(), 0.0, 0, 0
        for c, x in tqdm(
            loader, desc=f"fold {subject} epoch {epoch + 1}", disable=not progress, leave=False
        ):
            c, x = c.to(device), x.to(device)
            recon, mu, logvar = model(x, c)
            loss = cvae_loss(recon, x, mu, logvar, beta=cfg.beta)[0]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot, n, steps = tot + loss.item() * len(x), n + len(x), steps + 1
            if cfg.max_steps_per_epoch is not None and steps >= cfg.max_steps_per_epoch:
                break
        history.append(
            {"epoch": epoch + 1, "loss": tot / max(n, 1), "seconds": time.perf_counter() - t0}
        )
        log.info("fold %s epoch %d: loss %.5f", subject, epoch + 1, history[-1]["loss"])
        save_checkpoint(ckpt_path, payload(epoch + 1, False))

    test_loader = DataLoader(Subset(pairs, test_idx), batch_size=cfg.batch_size)
    conds, prior, post, targets = _reconstruct(model, test_loader, device)
    result = {
        "test_subject": subject, "pairs": len(test_idx),
        "prior": reconstruction_metrics(prior, targets),
        "posterior": reconstruction_metrics(post, targets),
    }  # fmt: skip
    rows = np.linspace(0, len(targets) - 1, min(cfg.grid_rows, len(targets))).astype(int)
    save_image_grid(fold_dir / "grid.png", conds[rows], prior[rows], targets[rows])
    save_checkpoint(ckpt_path, payload(cfg.epochs, True, result))
    log.info("fold %s: %s", subject, json.dumps(result["prior"]))
    return result


def plan_reconstruction(cfg: ReconstructConfig, out_dir: str | Path, *, resume: bool = False,
                        progress: bool = False) -> RunPlan:  # fmt: skip
    """Open the run directory and return one job per selected fold plus the pooling step."""
    out = open_run_dir(out_dir, resume=resume)
    root = _prepare(cfg)
    resolved: dict[str, Any] = config_to_dict(cfg)
    resolved["model"] = {"name": "cvae", "size": cfg.model.size, "cond_channels": 2, "target_channels": 1,
                         "latent": cfg.model.latent, "width": cfg.model.width}  # fmt: skip
    (out / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    clips = read_clips(root)
    pairs = _pairs(cfg, root)
    if pairs.cond.shape[-1] != cfg.model.size:
        raise ConfigError(
            f"model.size: {cfg.model.size} but the dataset's crops are {pairs.cond.shape[-1]}"
        )
    subjects = set(pairs.subjects)
    del pairs
    if len(subjects) < 2:
        raise ConfigError(f"dataset {root}: reconstruction folds need at least 2 subjects")
    folds = [f.test_subject for f in loso_folds(root, clips) if f.test_subject in subjects]
    if cfg.folds != "all":
        if isinstance(cfg.folds, str) or not set(cfg.folds) <= set(folds):
            raise ConfigError(
                f"folds: {cfg.folds!r} is neither 'all' nor a list of subjects in {folds}"
            )
        folds = [f for f in folds if f in cfg.folds]
    jobs = [
        Job(key=f"{out.name}/fold_{subject}", fn=reconstruct_fold, gpu=cfg.device != "cpu",
            kwargs={"cfg": cfg, "resolved": resolved, "root": root, "subject": subject,
                    "fold_index": i, "fold_dir": out / f"fold_{subject}", "progress": progress})
        for i, subject in enumerate(folds)
    ]  # fmt: skip

    with run_log(out):
        log.info("config: %s", json.dumps(resolved))
        log.info("dataset %s, %d fold job(s)", root, len(jobs))

    def finish(results: list[Any]) -> dict[str, Any]:
        with run_log(out):
            return _pool(results)

    def _pool(results: list[Any]) -> dict[str, Any]:
        keys = list(results[0]["prior"])
        mean_prior = {k: float(np.mean([r["prior"][k] for r in results])) for k in keys}
        mean_post = {k: float(np.mean([r["posterior"][k] for r in results])) for k in keys}
        n_params = sum(p.numel() for p in build_model(resolved["model"]).parameters())
        summary = {"event_camera": cfg.event_camera, "target_camera": cfg.target_camera, "folds": results,
                   "mean_prior": mean_prior, "mean_posterior": mean_post, "parameters": n_params}  # fmt: skip
        (out / "results.json").write_text(json.dumps(summary, indent=1))
        write_table6(
            out,
            {cfg.event_camera: mean_prior, f"{cfg.event_camera} posterior z=μ(x,c)": mean_post},
            n_params=n_params,
        )
        return summary

    return RunPlan(name=str(out), jobs=jobs, finish=finish)


def train_reconstruction(cfg: ReconstructConfig, out_dir: str | Path, *, resume: bool = False,
                         progress: bool = True, executor: Executor | None = None) -> dict[str, Any]:  # fmt: skip
    """Train and evaluate the cVAE on every selected fold; write the run directory.
    ``executor``: where the folds run (default: one after the other in this process)."""
    plan = plan_reconstruction(cfg, out_dir, resume=resume, progress=progress)
    return run_plans([plan], executor or InProcessExecutor())[0]
