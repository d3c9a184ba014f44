from __future__ import annotations

import csv

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from microexp.train.metrics import classification_metrics, reconstruction_metrics, topk_accuracy
from microexp.train.report import PAPER_TABLE6, save_confusion, save_image_grid, write_table6


def test_topk_and_confusion() -> None:
    scores = np.array(
        [[0.9, 0.1, 0.0, 0.0], [0.1, 0.2, 0.7, 0.0], [0.3, 0.4, 0.2, 0.1], [0.0, 0.05, 0.1, 0.9]]
    )
    labels = np.array([0, 1, 0, 0])
    assert topk_accuracy(scores, labels, 1) == 0.25
    assert topk_accuracy(scores, labels, 3) == 0.75
    m = classification_metrics(scores, labels, ["a", "b", "c", "d"])
    assert m["top1"] == 0.25 and m["top3"] == 0.75 and m["n"] == 4
    assert m["confusion"] == [[1, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert m["per_class"]["a"] == pytest.approx(1 / 3) and m["per_class"]["b"] == 0.0
    assert np.isnan(m["per_class"]["c"]) and m["support"] == {"a": 3, "b": 1, "c": 0, "d": 0}


def test_reconstruction_metrics_match_skimage_and_definitions() -> None:
    rng = np.random.default_rng(0)
    target = rng.random((3, 32, 32))
    recon = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1)
    m = reconstruction_metrics(recon, target)
    mse = ((recon - target) ** 2).mean(axis=(1, 2))
    assert m["mse"] == pytest.approx(mse.mean())
    assert m["rmse"] == pytest.approx(np.sqrt(mse).mean())
    assert m["mae"] == pytest.approx(np.abs(recon - target).mean())
    assert m["psnr"] == pytest.approx(
        np.mean(
            [
                peak_signal_noise_ratio(t, r, data_range=1)
                for t, r in zip(target, recon, strict=True)
            ]
        )
    )
    assert m["ssim"] == pytest.approx(
        np.mean(
            [structural_similarity(t, r, data_range=1) for t, r in zip(target, recon, strict=True)]
        )
    )
    assert m["ncc"] == pytest.approx(
        np.mean(
            [np.corrcoef(t.ravel(), r.ravel())[0, 1] for t, r in zip(target, recon, strict=True)]
        )
    )
    perfect = reconstruction_metrics(target, target)
    assert (
        perfect["mse"] == 0
        and perfect["ssim"] == pytest.approx(1)
        and perfect["ncc"] == pytest.approx(1)
    )


def test_table6_and_figures(tmp_path) -> None:
    ours = {"mse": 0.01, "rmse": 0.1, "mae": 0.08, "psnr": 20.0, "ssim": 0.5, "ncc": 0.9}
    write_table6(tmp_path, {"evk4": ours}, n_params=135_874_753)
    rows = list(csv.reader((tmp_path / "table6.csv").open()))
    assert rows[0] == ["metric", "evk4 (this run)", "evk4 (paper)"]
    assert rows[4] == ["PSNR (dB)", "20.0000", f"{PAPER_TABLE6['evk4']['psnr']:.4f}"]
    assert rows[7] == ["Model Params. (Mi)", "129.58", "289.00"]
    save_confusion(tmp_path / "cm", np.array([[2, 1], [0, 3]]), ["AU2", "AU4"], title="t")
    assert list(csv.reader((tmp_path / "cm.csv").open()))[1] == ["AU2", "2", "1"]
    assert (tmp_path / "cm.png").stat().st_size > 1000
    save_image_grid(
        tmp_path / "g.png", np.zeros((2, 2, 8, 8)), np.zeros((2, 8, 8)), np.ones((2, 8, 8))
    )
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_report_table_final_and_best_over_epochs(tmp_path) -> None:
    """The report's 7 movements: its 43.18 % beside this run's final and best-epoch figures."""
    from microexp.aus import MOVEMENT_CODES
    from microexp.train.report import write_result_tables

    k = len(MOVEMENT_CODES)
    rng = np.random.default_rng(0)
    results = []
    for _ in range(2):
        labels = rng.integers(0, k, 10)
        scores = rng.random((10, k))
        scores[np.arange(5), labels[:5]] = 2.0  # half right at top-1
        history = [{"epoch": e, "test_top1": t1, "test_top3": 0.6, "test_top5": t5}
                   for e, t1, t5 in ((1, 0.3, 0.8), (2, 0.7, 0.9), (3, 0.5, 1.0))]  # fmt: skip
        results.append({"scores": scores.tolist(), "labels": labels.tolist(), "history": history})
    summary = {"model": "sew", "modality": "events", "classes": list(MOVEMENT_CODES),
               "folds": [{"top1": 0.5}, {"top1": 0.5}], "mean_top1": 0.5, "std_top1": 0.0,
               "mean_top3": 0.6, "std_top3": 0.0}  # fmt: skip
    model = {"name": "sew", "num_classes": k, "in_channels": 2, "widths": [32, 64, 128]}
    write_result_tables(tmp_path, summary, model_config=model, results=results)
    rows = {r[0]: r for r in csv.reader((tmp_path / "table_report.csv").open())}
    top5 = [
        np.mean(
            [
                lab in np.argsort(-s)[:5]
                for s, lab in zip(np.array(r["scores"]), r["labels"], strict=True)
            ]
        )
        for r in results
    ]
    assert rows["this run, final epoch"][1:] == [
        "SEW-ResNet",
        "0.29",
        "50.00",
        f"{100 * np.mean(top5):.2f}",
        "2",
    ]
    # best epoch per fold = epoch 2 (top-1 0.7), whose top-5 is 0.9
    assert rows["this run, best epoch per fold (chosen on its test subject)"][3:5] == [
        "70.00",
        "90.00",
    ]
    assert rows["report, best epoch"][3:5] == ["43.18", "95.45"]
    assert rows["report, best of the smoothed curve"][3] == "40.24"
    t5 = {r[0]: r for r in csv.reader((tmp_path / "table5.csv").open())}
    assert t5["this run (best epoch per fold, chosen on its test subject)"][4] == "70.00"
