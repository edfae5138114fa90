"""A product in 3D: the request for a 360° turntable, the cameras COLMAP placed, the orbit, and the result."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.models.base import Frozen
from shared.models.media import PhotoRejection, PhotoSource

ProductRenderer = Literal["auto", "preview", "nerf"]
ProductMethod = Literal["splatfacto", "nerfacto"]


class Intrinsics(BaseModel):
    """Pinhole intrinsics in pixels of the image as written, with optional OpenCV distortion."""

    model_config = ConfigDict(frozen=True)

    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    k1: float = 0.0
    k2: float = 0.0
    p1: float = 0.0
    p2: float = 0.0

    def scaled(self, *, factor: float) -> Intrinsics:
        """The same camera for an image resized by `factor` (distortion is scale-free)."""
        return self.model_copy(
            update={
                "fx": self.fx * factor,
                "fy": self.fy * factor,
                "cx": self.cx * factor,
                "cy": self.cy * factor,
                "width": max(1, round(self.width * factor)),
                "height": max(1, round(self.height * factor)),
            }
        )


class PosedImage(BaseModel):
    """One registered image: its file name (or path relative to a dataset folder) and its camera-to-world
    pose, a 4×4 matrix with OpenCV camera axes (x right, y down, z forward)."""

    model_config = ConfigDict(frozen=True)

    file_path: str
    cam_to_world: tuple[tuple[float, float, float, float], ...]
    intrinsics: Intrinsics

    @model_validator(mode="after")
    def _rigid_4x4(self) -> PosedImage:
        import numpy as np

        m = np.asarray(self.cam_to_world, dtype=float)
        if m.shape != (4, 4) or not np.all(np.isfinite(m)):
            raise ValueError("cam_to_world must be a finite 4×4 matrix")
        if not np.allclose(m[3], [0, 0, 0, 1], atol=1e-6):
            raise ValueError("cam_to_world last row must be [0, 0, 0, 1]")
        rot = m[:3, :3]
        if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
            raise ValueError("cam_to_world rotation must be a proper rotation")
        return self


class Orbit(BaseModel):
    """A circle of cameras around `centre`, in the plane normal to `up`, all looking at the centre."""

    model_config = ConfigDict(frozen=True)

    centre: tuple[float, float, float]
    up: tuple[float, float, float]
    radius: float = Field(gt=0)
    elevation_deg: float = Field(ge=-89.0, le=89.0)
    reference: tuple[float, float, float] = Field(
        description="Azimuth 0 points from the centre toward this unit vector (in the horizontal plane)."
    )


class RegistrationAttempt(BaseModel):
    """One try of the COLMAP pipeline: its settings and what it achieved."""

    max_features: int
    matcher: Literal["exhaustive", "sequential"]
    registered: int
    seconds: float


class RegistrationSummary(BaseModel):
    total_images: int
    registered_images: int
    registered_fraction: float
    mean_reprojection_error_px: float
    points: int
    attempts: list[RegistrationAttempt]
    phase_seconds: dict[str, float]


class ProductRequest(Frozen):
    """Make a 360° turntable of a product from photos around it, or from a video walking around it."""

    photos: list[PhotoSource] = Field(default_factory=list, description="The photos, by store key, in order.")
    video: PhotoSource | None = Field(default=None, description="Or a walk-around video (its key and name).")
    frames: int = Field(default=120, ge=2, le=1440, description="Frames of the full turn (120 = 4 s at 30 fps).")
    fps: int = Field(default=30, ge=12, le=60)
    width: int = Field(default=1080, ge=64, le=4096, description="Turntable width in pixels (even).")
    height: int = Field(default=1080, ge=64, le=4096, description="Turntable height in pixels (even).")
    renderer: ProductRenderer = Field(
        default="auto", description="preview: the CPU point-splat preview; nerf: nerfstudio on a GPU; "
        "auto: nerf when a GPU is present, else preview."
    )
    method: ProductMethod = Field(default="splatfacto", description="The nerfstudio method (nerf renderer).")
    max_steps: int | None = Field(default=None, ge=1, description="Training steps; None: the method's preset.")
    seed: int = 0

    @model_validator(mode="after")
    def _one_input(self) -> ProductRequest:
        if bool(self.photos) == (self.video is not None):
            raise ValueError("give either photos or a video")
        if self.width % 2 or self.height % 2:
            raise ValueError(f"turntable size {self.width}x{self.height} must be even (4:2:0 video)")
        return self


class ProductCapture(Frozen):
    """The CPU half of a product: cameras placed, dataset written, orbit fitted. Reused by content key."""

    key: str = Field(description="Store prefix of this capture: product/<content key>.")
    registration: RegistrationSummary
    cameras: list[PosedImage] = Field(description="Registered images: file name, OpenCV camera-to-world, intrinsics.")
    orbit: Orbit
    object_radius: float = Field(gt=0, description="Radius around the orbit centre that holds the object.")
    frame_radius: float = Field(
        gt=0, description="Radius holding the object's own points (its table or wall left out): the turntable "
        "is framed on it."
    )
    points_key: str = Field(description="The sparse cloud (npz: xyz, rgb, seen_by).")
    dataset_key: str = Field(description="Prefix of the nerfstudio dataset: <prefix>/transforms.json, images/.")
    dataset_files: list[str] = Field(description="Paths under the dataset prefix, transforms.json included.")
    sampled_frames: int | None = Field(default=None, description="Video input: frames taken from the video.")
    rejected: list[PhotoRejection] = Field(default_factory=list, description="Photos left out, and why.")
    phase_seconds: dict[str, float] = Field(default_factory=dict)


class ProductRenderPlan(Frozen):
    """The turntable's cameras and where each rendered RGBA frame (PNG) goes in the store."""

    key: str = Field(description="Store prefix of this render: product/<content key>.")
    renderer: Literal["preview", "nerf"]
    method: ProductMethod | None = None
    cameras: list[tuple[tuple[float, float, float, float], ...]] = Field(
        description="Orbit cameras, camera-to-world 4×4, OpenCV axes, in the capture's (COLMAP) frame."
    )
    intrinsics: Intrinsics
    frame_keys: list[str]
    fps: int


class ProductResult(Frozen):
    turntable_key: str = Field(description="VP9 WebM with alpha (yuva420p), one full turn, loop-ready.")
    poster_key: str = Field(description="RGBA PNG of the first frame.")
    renderer: Literal["preview", "nerf"]
    preview: bool = Field(description="True when the CPU point-splat preview made it (not final quality).")
    method: ProductMethod | None = None
    frames: int
    fps: int
    width: int
    height: int
    duration: float
    registration: RegistrationSummary
    cameras: list[PosedImage]
    orbit: Orbit
    render_intrinsics: Intrinsics
    object_radius: float
    sampled_frames: int | None = None
    rejected: list[PhotoRejection] = Field(default_factory=list, description="Photos left out, and why.")
    phase_seconds: dict[str, float] = Field(default_factory=dict)
