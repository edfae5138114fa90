"""`train` end to end against a fake nerfstudio at the edge: a `nerfstudio` package on PYTHONPATH whose
`scripts.train.entrypoint` reads the real ns-train command line, logs the loss through
`utils.writer.put_scalar(name="Train Loss", ...)` as nerfstudio's trainer does, prints LocalWriter's rows and
writes config.yml, dataparser_transforms.json and a checkpoint where nerfstudio would. The real launcher
(nerf_launch.py) runs against it in a child process, as it runs against nerfstudio in the GPU image.
The GPU-only parts refuse clearly on this machine."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from functions.product.dataset import Intrinsics
from functions.product.nerf import (
    GpuUnavailableError,
    NerfError,
    NerfTrainingError,
    evaluate_psnr,
    gpu_available,
    render_frames,
    train,
    write_downscaled,
    write_seed_points,
)
from functions.product.nerf_command import ns_train_args
from functions.product.nerf_store import NerfRunError, fetch_run, store_run, stored_run
from shared.store import LocalStore

FAKE_WRITER = '''
"""Fake nerfstudio.utils.writer: the put_scalar the trainer calls, and LocalWriter's console format."""
EVENTS = []

def put_scalar(name, scalar, step):
    EVENTS.append((name, float(scalar), step))

def format_time(seconds):  # writer._format_time
    ms = seconds % 1 * 1e3
    seconds = int(seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes > 0:
        return f"{minutes} m, {seconds} s"
    if seconds > 0:
        return f"{seconds} s, {ms:0.3f} ms"
    return f"{ms:0.3f} ms"

def header(names):
    return f"{'Step (% Done)':<20}" + "".join(f"{name:<20} " for name in names)

def row(step, max_iter, values):
    head = f"{step} ({step / max_iter * 100:.02f}%)"
    return f"{head:<20}" + "".join(f"{v:<20} " for v in values)
'''

FAKE_TRAIN = '''
"""Fake nerfstudio.scripts.train: `entrypoint` reads sys.argv as ns-train does and trains nothing."""
import json, os, sys
from pathlib import Path
from nerfstudio.utils import writer

def entrypoint():
    argv = sys.argv[1:]
    record = os.environ.get("FAKE_NS_RECORD")
    if record:
        Path(record).write_text(json.dumps(argv))
    value = lambda flag: argv[argv.index(flag) + 1]
    method = argv[0]
    steps = int(value("--max-num-iterations"))
    per_log = int(value("--logging.steps-per-log"))
    base = Path(value("--output-dir")) / value("--experiment-name") / method / value("--timestamp")
    base.mkdir(parents=True, exist_ok=True)
    (base / "config.yml").write_text("!!python/object:nerfstudio.engine.trainer.TrainerConfig\\n")
    if os.environ.get("FAKE_NS_DOWNLOAD"):  # what torch.hub prints when a model fetches weights
        print('Downloading: "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" to /root/.cache/torch')
    print("[10:00:00] Saving checkpoints to: " + str(base / "nerfstudio_models"))
    print("logging events to: " + str(base))
    for step in range(0, steps, per_log):
        writer.put_scalar(name="Train Loss", scalar=0.2 / (1 + step / per_log), step=step)
        if step == 0:
            print(writer.header(["Train Iter (time)", "ETA (time)", "Train Rays / Sec"]))
            print("-" * 83)
        print(writer.row(step, steps, ["12.500 ms", writer.format_time((steps - step) * 0.0125), "2.1 M"]))
        if os.environ.get("FAKE_NS_FAIL") and step >= steps // 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    eye = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    (base / "dataparser_transforms.json").write_text(json.dumps({"transform": eye, "scale": 0.5}))
    if not os.environ.get("FAKE_NS_NO_CKPT"):
        (base / "nerfstudio_models").mkdir(exist_ok=True)
        (base / "nerfstudio_models" / f"step-{steps - 1:09d}.ckpt").write_bytes(b"weights")
    print("Training Finished")
'''


@pytest.fixture()
def fake_nerfstudio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fake_site"
    for rel, text in {
        "nerfstudio/__init__.py": "",
        "nerfstudio/utils/__init__.py": "",
        "nerfstudio/utils/writer.py": FAKE_WRITER,
        "nerfstudio/scripts/__init__.py": "",
        "nerfstudio/scripts/train.py": FAKE_TRAIN,
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.setenv("PYTHONPATH", str(root))
    record = tmp_path / "argv.json"
    monkeypatch.setenv("FAKE_NS_RECORD", str(record))
    return record


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    ds = tmp_path / "dataset"
    ds.mkdir()
    (ds / "transforms.json").write_text(json.dumps({"camera_model": "OPENCV", "frames": []}))
    return ds


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[float | None, str]] = []

    def __call__(self, *, percent: float | None = None, message: str = "") -> None:
        self.calls.append((percent, message))


def test_train_runs_ns_train_reports_step_loss_and_eta_and_returns_the_config(
    fake_nerfstudio: Path, dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    report = Recorder()
    config = train(dataset_dir=dataset, output_dir=out, method="splatfacto", max_steps=1000, report=report)
    assert config == out / "product" / "splatfacto" / "run" / "config.yml" and config.is_file()
    assert json.loads(fake_nerfstudio.read_text()) == ns_train_args(
        method="splatfacto", dataset_dir=dataset, output_dir=out, steps=1000), "the command nerfstudio received"
    percents = [p for p, _ in report.calls if p is not None]
    assert percents == sorted(percents) and percents[0] == 0.0 and percents[-1] == 100.0
    messages = [m for _, m in report.calls]
    assert "step 500/1000 loss 0.0333, 6 s, 250.000 ms left" in messages, messages
    assert any(p == 90.0 and m.startswith("step 900/1000 loss 0.02") for p, m in report.calls)
    assert "step 900/1000" in messages[-1]
    log_text = (config.parent / "train.log").read_text()
    assert "[momentloop] step 900 loss 0.02" in log_text and "Training Finished" in log_text


def test_a_rerun_replaces_the_last_run(fake_nerfstudio: Path, dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    train(dataset_dir=dataset, output_dir=out, method="nerfacto", max_steps=400)
    config = train(dataset_dir=dataset, output_dir=out, method="nerfacto", max_steps=200)
    assert sorted(p.name for p in (config.parent / "nerfstudio_models").iterdir()) == ["step-000000199.ckpt"]


def test_a_failing_ns_train_raises_with_the_tail_of_its_log(
    fake_nerfstudio: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NS_FAIL", "1")
    report = Recorder()
    with pytest.raises(NerfTrainingError, match=r"ns-train splatfacto failed \(exit 1\): RuntimeError: CUDA out of "
                                                r"memory") as caught:
        train(dataset_dir=dataset, output_dir=tmp_path / "out", method="splatfacto", max_steps=1000, report=report)
    err = caught.value
    assert err.returncode == 1 and any("Traceback" in line for line in err.tail)
    assert err.log_path.is_file() and str(err.log_path) in err.hint
    assert any(m.startswith("step 500/1000") for _, m in report.calls), "progress came through until it failed"


def test_a_run_without_checkpoint_is_a_failure(
    fake_nerfstudio: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NS_NO_CKPT", "1")
    with pytest.raises(NerfTrainingError, match="without a checkpoint"):
        train(dataset_dir=dataset, output_dir=tmp_path / "out", method="splatfacto", max_steps=100)


def test_train_refuses_a_folder_without_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(NerfError, match=r"transforms\.json is missing"):
        train(dataset_dir=tmp_path, output_dir=tmp_path / "out")
    with pytest.raises(ValueError, match="unknown nerfstudio method"):
        train(dataset_dir=tmp_path, output_dir=tmp_path / "out", method="zipnerf")


def test_seed_points_are_written_as_nerfstudio_reads_them(dataset: Path) -> None:
    xyz = np.array([[0.5, -1.25, 2.0], [1e-3, 3.0, -4.5], [np.nan, 0, 0]])
    rgb = np.array([[255, 0, 10], [1, 2, 3], [9, 9, 9]])
    ply = write_seed_points(dataset_dir=dataset, points_xyz=xyz, points_rgb=rgb)
    assert json.loads((dataset / "transforms.json").read_text())["ply_file_path"] == ply.name
    text = ply.read_text().splitlines()
    end = text.index("end_header")
    assert text[:3] == ["ply", "format ascii 1.0", "element vertex 2"], "the non-finite point is dropped"
    assert text[3:end] == ["property float x", "property float y", "property float z",
                           "property uint8 red", "property uint8 green", "property uint8 blue"]
    rows = np.array([[float(v) for v in line.split()] for line in text[end + 1:]])
    np.testing.assert_allclose(rows[:, :3], xyz[:2])
    np.testing.assert_array_equal(rows[:, 3:], rgb[:2])


def test_gpu_work_refuses_clearly_on_a_machine_without_one(tmp_path: Path) -> None:
    assert gpu_available() is False
    intr = Intrinsics(fx=100, fy=100, cx=50, cy=50, width=100, height=100)
    with pytest.raises(GpuUnavailableError, match="needs a GPU") as caught:
        render_frames(config=tmp_path / "config.yml", cameras=[np.eye(4)], intrinsics=intr, width=64, height=64,
                      out_dir=tmp_path / "frames")
    assert "--preview" in caught.value.hint
    with pytest.raises(GpuUnavailableError, match="needs a GPU"):
        evaluate_psnr(config=tmp_path / "config.yml")
    assert not (tmp_path / "frames").exists()


def test_a_trained_run_travels_through_the_store_to_another_machine(
    fake_nerfstudio: Path, dataset: Path, tmp_path: Path, store: LocalStore
) -> None:
    config = train(dataset_dir=dataset, output_dir=tmp_path / "gpu1", method="splatfacto", max_steps=300)
    assert stored_run(store=store, key="product/abc/nerf") is None
    run = store_run(config=config, method="splatfacto", store=store, key="product/abc/nerf")
    assert run.step == 299 and run.files[-1] == "nerfstudio_models/step-000000299.ckpt"
    assert stored_run(store=store, key="product/abc/nerf") == run
    fetched = fetch_run(run=run, store=store, dest=tmp_path / "gpu2" / "nerf")
    assert fetched == tmp_path / "gpu2" / "nerf" / "product" / "splatfacto" / "run" / "config.yml"
    for rel in run.files:
        assert (fetched.parent / rel).read_bytes() == (config.parent / rel).read_bytes(), rel
    (config.parent / "nerfstudio_models" / "step-000000299.ckpt").unlink()
    with pytest.raises(NerfRunError, match="no checkpoint"):
        store_run(config=config, method="splatfacto", store=store, key="product/def/nerf")


def test_a_download_during_training_is_called_out(
    fake_nerfstudio: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("FAKE_NS_DOWNLOAD", "1")
    with caplog.at_level("WARNING", logger="functions.product.nerf"):
        train(dataset_dir=dataset, output_dir=tmp_path / "out", method="splatfacto", max_steps=100)
    assert any("downloading at run time" in r.getMessage() and "alexnet" in r.getMessage() for r in caplog.records)


def big_dataset(root: Path, *, size: tuple[int, int]) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    frames = []
    for name in ("a.jpg", "b.jpg"):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(root / "images" / name)
        frames.append({"file_path": f"images/{name}", "transform_matrix": np.eye(4).tolist()})
    meta = {"camera_model": "OPENCV", "fl_x": 500.0, "fl_y": 500.0, "cx": size[0] / 2, "cy": size[1] / 2,
            "w": size[0], "h": size[1], "frames": frames}
    (root / "transforms.json").write_text(json.dumps(meta))
    return root


def test_big_photos_are_trained_on_downscaled_copies_where_nerfstudio_reads_them(
    fake_nerfstudio: Path, tmp_path: Path
) -> None:
    from PIL import Image

    ds = big_dataset(tmp_path / "ds", size=(1000, 1602))
    train(dataset_dir=ds, output_dir=tmp_path / "out", method="splatfacto", max_steps=100)
    argv = json.loads(fake_nerfstudio.read_text())
    assert argv[-2:] == ["--downscale-factor", "2"]
    for name in ("a.jpg", "b.jpg"):
        with Image.open(ds / "images_2" / name) as im:
            assert im.size == (500, 801), "nerfstudio rounds the rescaled size down"
    small = big_dataset(tmp_path / "small", size=(300, 200))
    assert write_downscaled(dataset_dir=small) == 1 and not list(small.glob("images_*"))
