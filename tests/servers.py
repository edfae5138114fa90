"""Real servers for the scale-out backends, started by the tests themselves.

- `s3_server()`: moto's S3 server on a free local port (real HTTP, real boto3 client, presigned URLs
  fetchable with any HTTP client).
- `postgres_server()`: a throw-away PostgreSQL cluster (initdb + pg_ctl from Debian's `postgresql`
  package) in a temporary folder, reachable only through a Unix socket in that folder; or the server
  named by MOMENTLOOP_TEST_POSTGRES_URL. Skips with a reason when neither exists.

Both are context managers so any test module (store, job store, the web app's end-to-end test) can
wrap them in a fixture of the scope it wants."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_POSTGRES_URL_ENV = "MOMENTLOOP_TEST_POSTGRES_URL"
S3_TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "momentloop-test",
    "AWS_SECRET_ACCESS_KEY": "momentloop-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """Yield the endpoint URL of a fresh moto S3 server (fake credentials set in the environment)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip('moto\'s server mode is not installed: pip install "moto[server]"')
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = {k: os.environ.get(k) for k in S3_TEST_CREDENTIALS}
    os.environ.update(S3_TEST_CREDENTIALS)
    try:
        yield f"http://{host}:{port}"
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def _postgres_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))  # Debian keeps them off PATH
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a connection URL to a PostgreSQL server the caller may create tables in."""
    url = os.environ.get(TEST_POSTGRES_URL_ENV)
    if url:
        yield url
        return
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip(f"no PostgreSQL server binaries (apt-get install -y postgresql) and no {TEST_POSTGRES_URL_ENV}")
    # PostgreSQL refuses to run as root: as root, run it as the package's `postgres` user.
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the test server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="ml-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "server.log"

    def run(*args: str) -> None:
        proc = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            server_log = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {' | '.join(detail)}\n{server_log}")

    options = (
        f"-k {root} -c listen_addresses='' -p 5432 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=100"
    )
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "momentloop", "--auth=trust", "-E", "UTF8",
            "--no-locale", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        try:
            yield f"postgresql://momentloop@/postgres?host={root}&port=5432"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
