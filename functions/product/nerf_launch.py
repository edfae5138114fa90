"""`ns-train`, with each training loss it logs also written to stdout. Runs as a script in the GPU image:

    python functions/product/nerf_launch.py splatfacto --data DIR ... nerfstudio-data ...

nerfstudio's console writer prints step, time per step and ETA but cannot print the loss (LocalWriter only
tracks `EventName` stats); the trainer hands the loss to `writer.put_scalar(name="Train Loss", ...)` every
`steps_per_log` steps (nerfstudio/engine/trainer.py, `train`). Wrapping that one function shows the loss
without changing what nerfstudio does. Imports nothing of ours, so it runs with only nerfstudio installed;
the line format is read by functions/product/nerf_progress.py (LOSS_PREFIX).
"""

from __future__ import annotations

import sys
from typing import Any


def main(argv: list[str]) -> None:
    from nerfstudio.scripts import train as ns_train
    from nerfstudio.utils import writer

    original = writer.put_scalar

    def put_scalar(name: Any, scalar: Any, step: int) -> None:
        if name == "Train Loss":
            sys.stdout.write(f"[momentloop] step {int(step)} loss {float(scalar):.6g}\n")
            sys.stdout.flush()
        original(name=name, scalar=scalar, step=step)

    writer.put_scalar = put_scalar  # the trainer looks it up on the module at each call
    sys.argv = ["ns-train", *argv]
    ns_train.entrypoint()


if __name__ == "__main__":
    main(sys.argv[1:])
