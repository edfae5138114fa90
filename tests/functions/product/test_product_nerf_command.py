"""The ns-train command line, the frame chunks of the render fan-out, and reading ns-train's console rows
in the format nerfstudio's LocalWriter prints them (nerfstudio/utils/writer.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.product.nerf_command import (
    downscale_factor,
    frame_chunks,
    frame_name,
    ns_train_args,
    run_dir,
)
from functions.product.nerf_progress import TrainLogParser


def localwriter_header(names: list[str]) -> str:
    """LocalWriter._update_header: f"{'Step (% Done)':<20}" then f"{name:<20} " per stat."""
    return f"{'Step (% Done)':<20}" + "".join(f"{name:<20} " for name in names)


def localwriter_row(step: int, max_iter: int, values: list[str]) -> str:
    """LocalWriter._print_stats: f"{step} ({fraction_done*100:.02f}%)" padded to 20, then f"{v:<20} "."""
    head = f"{step} ({step / max_iter * 100:.02f}%)"
    return f"{head:<20}" + "".join(f"{v:<20} " for v in values)


def test_chunks_cover_every_frame_once_in_order() -> None:
    assert frame_chunks(total=10, chunk=4) == [(0, 4), (4, 8), (8, 10)]
    assert frame_chunks(total=8, chunk=4) == [(0, 4), (4, 8)]
    assert frame_chunks(total=0, chunk=4) == []
    chunks = frame_chunks(total=241, chunk=30)
    frames = [i for a, b in chunks for i in range(a, b)]
    assert frames == list(range(241)) and all(b - a <= 30 for a, b in chunks)
    names = [frame_name(i) for i in frames]
    assert names == sorted(names), "frames rendered apart concatenate by name"
    for bad in ({"total": -1, "chunk": 4}, {"total": 4, "chunk": 0}):
        with pytest.raises(ValueError):
            frame_chunks(**bad)


def test_ns_train_command_for_splatfacto() -> None:
    args = ns_train_args(method="splatfacto", dataset_dir=Path("/d/ds"), output_dir=Path("/d/out"), steps=10_000)
    assert args[0] == "splatfacto"

    def value(flag: str) -> str:
        return args[args.index(flag) + 1]

    assert value("--data") == "/d/ds" and value("--output-dir") == "/d/out"
    assert value("--max-num-iterations") == "10000"
    assert value("--timestamp") == "run" and value("--experiment-name") == "product"
    assert value("--vis") == "tensorboard", "no viewer server in a batch job"
    assert value("--viewer.quit-on-train-completion") == "True"
    assert value("--logging.local-writer.max-log-size") == "0", "plain rows, no cursor redraws"
    assert value("--pipeline.model.background-color") == "random"
    assert value("--pipeline.model.stop-split-at") == "5000"
    sub = args.index("nerfstudio-data")
    assert all(not a.startswith("--pipeline") for a in args[sub:]), "model flags go before the dataparser"
    assert args[sub:] == ["nerfstudio-data", "--eval-mode", "interval", "--eval-interval", "8",
                          "--downscale-factor", "1"]
    assert run_dir(output_dir=Path("/d/out"), method="splatfacto") == Path("/d/out/product/splatfacto/run")


def test_ns_train_command_for_nerfacto_and_refusals() -> None:
    args = ns_train_args(method="nerfacto", dataset_dir=Path("ds"), output_dir=Path("out"), steps=5000)
    assert args[0] == "nerfacto"
    assert args[args.index("--pipeline.model.camera-optimizer.mode") + 1] == "off"
    assert "--pipeline.model.stop-split-at" not in args
    with pytest.raises(ValueError, match="unknown nerfstudio method"):
        ns_train_args(method="instant-ngp", dataset_dir=Path("ds"), output_dir=Path("out"), steps=10)
    with pytest.raises(ValueError, match="steps"):
        ns_train_args(method="nerfacto", dataset_dir=Path("ds"), output_dir=Path("out"), steps=0)


def test_progress_rows_with_loss_and_eta() -> None:
    parser = TrainLogParser(total_steps=15_000)
    lines = [
        "[10:01:02] Saving checkpoints to: /data/out/product/splatfacto/run/nerfstudio_models",
        "logging events to: /data/out/product/splatfacto/run",
        "[momentloop] step 0 loss 0.251234",
        localwriter_header(["Train Iter (time)", "ETA (time)", "Train Rays / Sec"]),
        "-" * 83,
        localwriter_row(0, 15_000, ["1 s, 204.112 ms", "4 h, 10 m, 3 s", "3.1 K"]),
        "[momentloop] step 3000 loss 0.0213",
        "\x1b[2K" + localwriter_row(3000, 15_000, ["23.512 ms", "4 m, 42 s", "1.47 M"]),
        "Traceback-free noise line (50.00%)",
    ]
    rows = [p for p in (parser.feed(line) for line in lines) if p is not None]
    assert [(r.step, r.percent) for r in rows] == [(0, 0.0), (3000, 20.0)]
    assert rows[0].loss == pytest.approx(0.251234) and rows[0].eta == "4 h, 10 m, 3 s"
    assert rows[1].loss == pytest.approx(0.0213) and rows[1].eta == "4 m, 42 s"
    assert rows[1].message() == "step 3000/15000 loss 0.0213, 4 m, 42 s left"


def test_progress_without_eta_column_or_loss_still_reports_the_step() -> None:
    parser = TrainLogParser(total_steps=200)
    parser.feed(localwriter_header(["Train Iter (time)", "Train Rays / Sec"]))
    row = parser.feed(localwriter_row(100, 200, ["50.000 ms", "800.0 K"]))
    assert row is not None and row.percent == 50.0 and row.eta is None and row.loss is None
    assert row.message() == "step 100/200"
    # a loss from a later step is not shown against an earlier row
    parser.feed("[momentloop] step 150 loss 0.5")
    late = parser.feed(localwriter_row(120, 200, ["50.000 ms", "800.0 K"]))
    assert late is not None and late.loss is None


def test_downscale_factor_is_the_power_of_two_nerfstudio_would_pick() -> None:
    assert downscale_factor(width=1080, height=1920) == 2, "a 1080p phone photo trains at 540×960"
    assert downscale_factor(width=1200, height=1600) == 1
    assert downscale_factor(width=4032, height=3024) == 4
    assert downscale_factor(width=1000, height=700, max_side=400) == 4
    args = ns_train_args(method="splatfacto", dataset_dir=Path("ds"), output_dir=Path("out"), steps=10, downscale=2)
    assert args[-2:] == ["--downscale-factor", "2"]
