"""The project store (shared/projects.py's interface) on SQLite or PostgreSQL, through SQLAlchemy Core.

Writes that depend on what is already there (a photo's place in the order, a reorder, a replaced song, a
storyboard) lock the project's row first (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the write
transaction holds the database's write lock from its start): two uploads to one project never get the
same position, while on PostgreSQL work on different projects never waits."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Select, Table, bindparam, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from shared.db.engine import DatabaseStore
from shared.db.tables import (
    assets,
    exports,
    plan_versions,
    plans,
    products,
    project_jobs,
    project_products,
    projects,
    sessions,
    users,
)
from shared.models.base import Aspect
from shared.projects import (
    PLAN_VERSIONS_KEPT,
    AssetKind,
    AssetRecord,
    AssetRole,
    ConflictError,
    ExportRecord,
    JobLink,
    NotFoundError,
    PlanBasis,
    PlanHistory,
    PlanRecord,
    ProductRecord,
    ProjectRecord,
    UserRecord,
)

Record = TypeVar("Record", bound=BaseModel)

PROJECT_FIELDS = frozenset({"name", "look", "aspect", "duration", "fps", "photo_order"})
"""What `update_project` may change."""

_USER = (users.c.id, users.c.name, users.c.created_at)
_LINK = (project_jobs.c.job_id, project_jobs.c.project_id, project_jobs.c.kind, project_jobs.c.created_at)


def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough (no dictionary to attack), and it lets the
    # lookup be one indexed equality.
    return hashlib.sha256(token.encode()).hexdigest()


def new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


def _check_role(*, kind: AssetKind, role: AssetRole) -> None:
    if role == "capture" and kind != "photo":
        raise ConflictError("a capture is a photo of the product; a song belongs to the video (role photo)")


def _check_limit(*, role: AssetRole, count: int, max_photos: int | None, max_captures: int | None) -> None:
    """The video's photos and a product capture's are counted apart, each against its own limit."""
    if role == "photo" and max_photos is not None and count >= max_photos:
        raise ConflictError(f"a project holds at most {max_photos} photos")
    if role == "capture" and max_captures is not None and count >= max_captures:
        raise ConflictError(f"a project holds at most {max_captures} photos of a product capture")


def _owned(table: Table, user_id: str) -> Select[Any]:
    """`table`'s rows whose project belongs to `user_id`."""
    return select(table).join(projects, projects.c.id == table.c.project_id).where(projects.c.user_id == user_id)


def _photo_ids(project_id: str, role: str) -> Select[Any]:
    """The ids of the project's photos of `role`, in their order."""
    return (select(assets.c.id).where(assets.c.project_id == project_id, assets.c.kind == "photo",
                                      assets.c.role == role).order_by(assets.c.position))


class SQLProjectStore(DatabaseStore):
    """Users, sessions, projects, assets, storyboards, job links, exports and product turntables in one
    database (it may be the job store's own), shared by this process's threads and by other processes."""

    def _one(self, model: type[Record], query: Select[Any]) -> Record | None:
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return model.model_validate(row, from_attributes=True) if row is not None else None

    def _all(self, model: type[Record], query: Select[Any]) -> list[Record]:
        with self.db.read() as conn:
            return [model.model_validate(row, from_attributes=True) for row in conn.execute(query)]

    def _found(self, model: type[Record], query: Select[Any], *, what: str, ident: str) -> Record:
        record = self._one(model, query)
        if record is None:
            raise NotFoundError(what, ident)
        return record

    @staticmethod
    def _lock_project(conn: Connection, project_id: str) -> None:
        if conn.execute(select(projects.c.id).where(projects.c.id == project_id).with_for_update()).first() is None:
            raise NotFoundError("project", project_id)

    @staticmethod
    def _touch(conn: Connection, project_id: str) -> None:
        conn.execute(update(projects).where(projects.c.id == project_id).values(updated_at=_now()))

    @staticmethod
    def _place(conn: Connection, asset_ids: Sequence[str]) -> None:
        """Give the assets the positions 0, 1, ... in the order given."""
        if asset_ids:
            conn.execute(update(assets).where(assets.c.id == bindparam("asset")).values(position=bindparam("place")),
                         [{"asset": aid, "place": n} for n, aid in enumerate(asset_ids)])

    # ------------------------------------------------------------------ users and sessions

    def add_user(self, *, name: str) -> tuple[UserRecord, str]:
        """A new user and their token (shown once: only its hash is kept)."""
        name = name.strip()
        if not name or len(name) > 100 or any(c in name for c in "\r\n\t"):
            raise ConflictError("a user name is 1 to 100 characters on one line")
        token = "ml_" + secrets.token_urlsafe(32)
        user = UserRecord(id=new_id(), name=name, created_at=_now())
        try:
            with self.db.write() as conn:
                conn.execute(insert(users).values(token_hash=token_hash(token), **user.model_dump()))
        except IntegrityError:
            raise ConflictError(f"a user named {name!r} already exists") from None
        return user, token

    def list_users(self) -> list[UserRecord]:
        return self._all(UserRecord, select(*_USER).order_by(users.c.created_at))

    def user_by_token(self, token: str) -> UserRecord | None:
        return self._one(UserRecord, select(*_USER).where(users.c.token_hash == token_hash(token)))

    def create_session(self, *, user_id: str) -> str:
        session = "mls_" + secrets.token_urlsafe(32)
        with self.db.write() as conn:
            conn.execute(insert(sessions).values(token_hash=token_hash(session), user_id=user_id, created_at=_now()))
        return session

    def user_by_session(self, session: str) -> UserRecord | None:
        return self._one(UserRecord, select(*_USER).join(sessions, sessions.c.user_id == users.c.id)
                         .where(sessions.c.token_hash == token_hash(session)))

    def delete_session(self, session: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(session)))

    # ------------------------------------------------------------------ projects

    def create_project(self, *, user_id: str, name: str, look: str, aspect: Aspect, duration: float | None,
                       fps: int) -> ProjectRecord:
        now, pid = _now(), new_id()
        with self.db.write() as conn:
            conn.execute(insert(projects).values(id=pid, user_id=user_id, name=name, look=look, aspect=aspect,
                                                 duration=duration, fps=fps, created_at=now, updated_at=now))
        return self.get_project(user_id=user_id, project_id=pid)

    def list_projects(self, *, user_id: str) -> list[ProjectRecord]:
        return self._all(ProjectRecord, select(projects).where(projects.c.user_id == user_id)
                         .order_by(projects.c.created_at.desc(), projects.c.id.desc()))

    def get_project(self, *, user_id: str, project_id: str) -> ProjectRecord:
        return self._found(ProjectRecord, select(projects).where(projects.c.id == project_id,
                                                                 projects.c.user_id == user_id),
                           what="project", ident=project_id)

    def update_project(self, *, user_id: str, project_id: str, changes: dict[str, Any]) -> ProjectRecord:
        unknown = set(changes) - PROJECT_FIELDS
        if unknown:
            raise ValueError(f"not project fields: {sorted(unknown)}")
        with self.db.write() as conn:
            changed = conn.execute(update(projects).where(projects.c.id == project_id, projects.c.user_id == user_id)
                                   .values(**changes, updated_at=_now())).rowcount
        if changed == 0:
            raise NotFoundError("project", project_id)
        return self.get_project(user_id=user_id, project_id=project_id)

    def touch_project(self, *, project_id: str) -> None:
        with self.db.write() as conn:
            self._touch(conn, project_id)

    def delete_project(self, *, user_id: str, project_id: str) -> None:
        with self.db.write() as conn:
            gone = conn.execute(delete(projects).where(projects.c.id == project_id,
                                                       projects.c.user_id == user_id)).rowcount
        if gone == 0:
            raise NotFoundError("project", project_id)

    # ------------------------------------------------------------------ assets

    def add_asset(self, *, project_id: str, kind: AssetKind, name: str, key: str, size_bytes: int,
                  thumb_key: str | None = None, preview_key: str | None = None, width: int | None = None,
                  height: int | None = None, duration: float | None = None,
                  max_photos: int | None = None, role: AssetRole = "photo",
                  max_captures: int | None = None) -> AssetRecord:
        """A photo goes last in its role's order (the video's photos, or the captures: each with its own
        limit); a song replaces the project's song."""
        _check_role(kind=kind, role=role)
        aid = new_id()
        with self.db.write() as conn:
            self._lock_project(conn, project_id)
            position: int | None = None
            if kind == "photo":
                count = len(conn.scalars(_photo_ids(project_id, role)).all())
                _check_limit(role=role, count=count, max_photos=max_photos, max_captures=max_captures)
                position = count
            else:
                conn.execute(delete(assets).where(assets.c.project_id == project_id, assets.c.kind == "music"))
            conn.execute(insert(assets).values(
                id=aid, project_id=project_id, kind=kind, name=name, position=position, key=key, thumb_key=thumb_key,
                preview_key=preview_key, width=width, height=height, duration=duration, size_bytes=size_bytes,
                created_at=_now(), role=role))
            self._touch(conn, project_id)
        return self._found(AssetRecord, select(assets).where(assets.c.id == aid), what="asset", ident=aid)

    def list_assets(self, *, project_id: str, role: AssetRole = "photo") -> list[AssetRecord]:
        """`photo`: the video's photos in their order, then the song; `capture`: the captures in theirs."""
        return self._all(AssetRecord, select(assets).where(assets.c.project_id == project_id, assets.c.role == role)
                         .order_by(case((assets.c.kind == "photo", 0), else_=1), assets.c.position,
                                   assets.c.created_at))

    def get_asset(self, *, user_id: str, asset_id: str) -> AssetRecord:
        return self._found(AssetRecord, _owned(assets, user_id).where(assets.c.id == asset_id),
                           what="asset", ident=asset_id)

    def delete_asset(self, *, project_id: str, asset_id: str) -> None:
        with self.db.write() as conn:
            self._lock_project(conn, project_id)
            role = conn.scalar(delete(assets).where(assets.c.id == asset_id, assets.c.project_id == project_id)
                               .returning(assets.c.role))
            if role is None:
                raise NotFoundError("asset", asset_id)
            self._place(conn, conn.scalars(_photo_ids(project_id, role)).all())
            self._touch(conn, project_id)

    def reorder_photos(self, *, project_id: str, asset_ids: Sequence[str]) -> list[AssetRecord]:
        """Put the project's photos in the order of `asset_ids`, which must name each of them once."""
        given = list(asset_ids)
        with self.db.write() as conn:
            self._lock_project(conn, project_id)
            current = set(conn.scalars(_photo_ids(project_id, "photo")))
            if len(set(given)) != len(given):
                raise ConflictError("the order names a photo more than once")
            if set(given) != current:
                missing, extra = len(current - set(given)), len(set(given) - current)
                raise ConflictError(
                    f"the order must name every photo of the project once ({len(current)} photos; "
                    f"{missing} left out, {extra} not photos of this project)")
            self._place(conn, given)
            self._touch(conn, project_id)
        return self.list_assets(project_id=project_id)

    # ------------------------------------------------------------------ storyboards

    def get_plan(self, *, project_id: str) -> PlanRecord | None:
        with self.db.read() as conn:
            body = conn.scalar(select(plans.c.body).where(plans.c.project_id == project_id))
        return PlanRecord.model_validate_json(body) if body is not None else None

    def save_plan(self, record: PlanRecord, *, expect: int | None = None) -> int:
        """Keep `record` as the project's newest storyboard state and show it; returns its number. States
        after the one shown (undone ones) are let go, as an editor's redo is once something new is done.
        `expect`: the state the change was made from; another one shown by now is a ConflictError."""
        pid = record.project_id
        body = record.model_dump_json()
        with self.db.write() as conn:
            self._lock_project(conn, pid)
            shown = conn.scalar(select(plans.c.version).where(plans.c.project_id == pid))
            if expect is not None and shown != expect:
                raise ConflictError("the storyboard changed meanwhile (in another tab or by a job)",
                                    hint="reload it and make the change again")
            newest = conn.scalar(select(func.max(plan_versions.c.number)).where(plan_versions.c.project_id == pid))
            number = (shown if shown is not None else newest or 0) + 1
            gone = (plan_versions.c.number >= number) | (plan_versions.c.number <= number - PLAN_VERSIONS_KEPT)
            conn.execute(delete(plan_versions).where(plan_versions.c.project_id == pid, gone))
            conn.execute(insert(plan_versions).values(project_id=pid, number=number, body=body, note=record.note,
                                                      created_at=record.updated_at))
            conn.execute(delete(plans).where(plans.c.project_id == pid))
            conn.execute(insert(plans).values(project_id=pid, body=body, updated_at=record.updated_at,
                                              version=number))
        return number

    def plan_history(self, *, project_id: str) -> PlanHistory | None:
        with self.db.read() as conn:
            shown = conn.scalar(select(plans.c.version).where(plans.c.project_id == project_id))
            if shown is None:
                return None
            kept = conn.execute(select(plan_versions.c.number, plan_versions.c.note)
                                .where(plan_versions.c.project_id == project_id)
                                .order_by(plan_versions.c.number)).all()
        notes = {number: note for number, note in kept}
        first, last = (kept[0][0], kept[-1][0]) if kept else (shown, shown)
        return PlanHistory(version=shown, first=first, last=last,
                           undo=notes.get(shown) if shown - 1 in notes else None, redo=notes.get(shown + 1))

    def step_plan(self, *, project_id: str, by: int) -> PlanRecord:
        """Show the state `by` steps from the one shown (-1: undo, 1: redo); a ConflictError past either end."""
        with self.db.write() as conn:
            self._lock_project(conn, project_id)
            shown = conn.scalar(select(plans.c.version).where(plans.c.project_id == project_id))
            if shown is None:
                raise NotFoundError("storyboard", project_id)
            target = conn.execute(select(plan_versions.c.body, plan_versions.c.created_at).where(
                plan_versions.c.project_id == project_id, plan_versions.c.number == shown + by)).first()
            if target is None:
                raise ConflictError(f"nothing to {'undo' if by < 0 else 'redo'}: this is the "
                                    f"{'oldest' if by < 0 else 'newest'} state of the storyboard kept")
            conn.execute(update(plans).where(plans.c.project_id == project_id)
                         .values(body=target.body, version=shown + by, updated_at=target.created_at))
            self._touch(conn, project_id)
        return PlanRecord.model_validate_json(target.body)

    def delete_plan(self, *, project_id: str) -> None:
        """The storyboard and every kept state of it."""
        with self.db.write() as conn:
            conn.execute(delete(plans).where(plans.c.project_id == project_id))
            conn.execute(delete(plan_versions).where(plan_versions.c.project_id == project_id))

    # ------------------------------------------------------------------ jobs of projects

    def link_job(self, *, job_id: str, project_id: str, kind: str) -> JobLink:
        link = JobLink(job_id=job_id, project_id=project_id, kind=kind, created_at=_now())
        with self.db.write() as conn:
            conn.execute(insert(project_jobs).values(**link.model_dump()))
        return link

    def get_job_link(self, *, user_id: str, job_id: str) -> JobLink:
        return self._found(JobLink, _owned(project_jobs, user_id).where(project_jobs.c.job_id == job_id),
                           what="job", ident=job_id)

    def list_job_links(self, *, project_id: str) -> list[JobLink]:
        return self._all(JobLink, select(*_LINK).where(project_jobs.c.project_id == project_id)
                         .order_by(project_jobs.c.created_at.desc(), project_jobs.c.job_id.desc()))

    def job_links(self, job_ids: Sequence[str]) -> list[JobLink]:
        """The links of those of `job_ids` whose project still exists."""
        if not job_ids:
            return []
        return self._all(JobLink, select(*_LINK).where(project_jobs.c.job_id.in_(list(job_ids))))

    # ------------------------------------------------------------------ exports and product turntables

    def _add_to_project(self, table: Table, record: ExportRecord | ProductRecord) -> None:
        with self.db.write() as conn:
            self._lock_project(conn, record.project_id)
            conn.execute(insert(table).values(**record.model_dump()))

    def add_export(self, *, project_id: str, job_id: str, video_key: str, poster_key: str | None,
                   duration: float, width: int, height: int, size_bytes: int, fingerprint: str | None = None,
                   plan_digest: str | None = None, look: str | None = None,
                   made_for: PlanBasis | None = None) -> ExportRecord:
        record = ExportRecord(id=new_id(), project_id=project_id, job_id=job_id, video_key=video_key,
                              poster_key=poster_key, duration=duration, width=width, height=height,
                              size_bytes=size_bytes, created_at=_now(), fingerprint=fingerprint,
                              plan_digest=plan_digest, look=look, made_for=made_for)
        self._add_to_project(exports, record)
        return record

    def list_exports(self, *, project_id: str) -> list[ExportRecord]:
        return self._all(ExportRecord, select(exports).where(exports.c.project_id == project_id)
                         .order_by(exports.c.created_at.desc(), exports.c.id.desc()))

    def get_export(self, *, user_id: str, export_id: str) -> ExportRecord:
        return self._found(ExportRecord, _owned(exports, user_id).where(exports.c.id == export_id),
                           what="export", ident=export_id)

    def export_for_job(self, *, job_id: str) -> ExportRecord | None:
        return self._one(ExportRecord, select(exports).where(exports.c.job_id == job_id))

    def add_product(self, *, project_id: str, job_id: str, turntable_key: str, poster_key: str, frames: int,
                    fps: int, width: int, height: int, duration: float, renderer: str,
                    size_bytes: int) -> ProductRecord:
        record = ProductRecord(id=new_id(), project_id=project_id, job_id=job_id, turntable_key=turntable_key,
                               poster_key=poster_key, frames=frames, fps=fps, width=width, height=height,
                               duration=duration, renderer=renderer, size_bytes=size_bytes, created_at=_now())
        self._add_to_project(products, record)
        return record

    def list_products(self, *, project_id: str) -> list[ProductRecord]:
        return self._all(ProductRecord, select(products).where(products.c.project_id == project_id)
                         .order_by(products.c.created_at.desc(), products.c.id.desc()))

    def get_product(self, *, user_id: str, product_id: str) -> ProductRecord:
        return self._found(ProductRecord, _owned(products, user_id).where(products.c.id == product_id),
                           what="product", ident=product_id)

    def product_for_job(self, *, job_id: str) -> ProductRecord | None:
        return self._one(ProductRecord, select(products).where(products.c.job_id == job_id))

    def project_product(self, *, project_id: str) -> ProductRecord | None:
        """The turntable the project's video shows as its product shot, if any."""
        return self._one(ProductRecord, select(products).join(project_products,
                                                              project_products.c.product_id == products.c.id)
                         .where(project_products.c.project_id == project_id))

    def use_product(self, *, project_id: str, product_id: str | None) -> None:
        """Show `product_id` (one of the project's turntables) in the project's video; None: none."""
        with self.db.write() as conn:
            self._lock_project(conn, project_id)
            if product_id is not None and conn.scalar(
                    select(products.c.id).where(products.c.id == product_id,
                                                products.c.project_id == project_id)) is None:
                raise NotFoundError("product", product_id)
            conn.execute(delete(project_products).where(project_products.c.project_id == project_id))
            if product_id is not None:
                conn.execute(insert(project_products).values(project_id=project_id, product_id=product_id))
