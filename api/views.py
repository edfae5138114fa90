"""Stored records as the API shows them (`*Public` models)."""

from __future__ import annotations

from api.schemas import AssetPublic, ExportPublic, JobPublic, ProductPublic, ProjectPublic
from shared.models.jobs import JobRecord
from shared.projects import AssetRecord, ExportRecord, JobLink, ProductRecord, ProjectRecord, ProjectStore


def asset_public(asset: AssetRecord) -> AssetPublic:
    return AssetPublic(
        id=asset.id, kind=asset.kind, name=asset.name, position=asset.position, width=asset.width,
        height=asset.height, duration=asset.duration, size_bytes=asset.size_bytes, role=asset.role,
        thumbnail_url=f"/api/assets/{asset.id}/thumbnail" if asset.thumb_key else None,
        created_at=asset.created_at,
    )


def project_public(*, project: ProjectRecord, projects: ProjectStore,
                   assets: list[AssetRecord] | None = None) -> ProjectPublic:
    assets = projects.list_assets(project_id=project.id) if assets is None else assets
    song = next((a for a in assets if a.kind == "music"), None)
    cover = next((a for a in assets if a.kind == "photo" and a.role == "photo" and a.thumb_key), None)
    product = projects.project_product(project_id=project.id)
    return ProjectPublic(
        id=project.id, name=project.name, look=project.look, aspect=project.aspect, duration=project.duration,
        fps=project.fps, created_at=project.created_at, updated_at=project.updated_at,
        photo_count=sum(1 for a in assets if a.kind == "photo" and a.role == "photo"), order=project.photo_order,
        cover_url=asset_public(cover).thumbnail_url if cover else None,
        music=asset_public(song) if song else None,
        product=product_public(product, in_use=True) if product else None,
    )


def job_public(*, link: JobLink, job: JobRecord) -> JobPublic:
    result = job.result or {}
    export_id = result.get("export_id") if job.status == "done" else None
    hint = result.get("hint") if job.status == "failed" else None
    product_id = result.get("product_id") if job.status == "done" else None
    return JobPublic(
        id=job.id, project_id=link.project_id, kind=link.kind,
        status=job.status, error=job.error if job.status == "failed" else None,
        hint=str(hint) if hint else None, created_at=job.created_at, updated_at=job.updated_at,
        export_id=str(export_id) if export_id else None, product_id=str(product_id) if product_id else None,
    )


def export_public(export: ExportRecord, *, stale: list[str] | None = None) -> ExportPublic:
    """`stale`: what changed in the project since it was rendered (api/storyboard.py: export_stale)."""
    return ExportPublic(
        id=export.id, job_id=export.job_id, duration=export.duration, width=export.width, height=export.height,
        size_bytes=export.size_bytes, created_at=export.created_at, video_url=f"/api/exports/{export.id}/video",
        poster_url=f"/api/exports/{export.id}/poster" if export.poster_key else None,
        current=not stale, stale=stale or [],
    )


def product_public(product: ProductRecord, *, in_use: bool) -> ProductPublic:
    return ProductPublic(
        id=product.id, job_id=product.job_id, frames=product.frames, fps=product.fps, width=product.width,
        height=product.height, duration=product.duration, renderer=product.renderer,
        preview=product.renderer == "preview", size_bytes=product.size_bytes, created_at=product.created_at,
        video_url=f"/api/products/{product.id}/video", poster_url=f"/api/products/{product.id}/poster",
        in_use=in_use,
    )
