"""A throwaway PostgreSQL server on loopback for the store tests (Debian's postgresql)."""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.sipp import free_tcp_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/install-system.sh "
                           "(make test does)")
    return found[-1]


@dataclass
class PostgresServer:
    root: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls) -> PostgresServer:
        # The server refuses to run as root: it runs as Debian's postgres user, in a
        # directory that user owns, and answers only on 127.0.0.1.
        root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        shutil.chown(root, "postgres", "postgres")
        port = free_tcp_port()

        def as_postgres(*argv: str) -> None:
            subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True,
                           capture_output=True, timeout=120)

        as_postgres(_bin("initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres",
                    "--no-sync", "-E", "UTF8", "--locale=C")
        as_postgres(_bin("pg_ctl"), "-D", str(root / "data"), "-w", "-l", str(root / "log"),
                    "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root} "
                          "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                          "-c max_connections=300", "start")
        return cls(root, port)

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", _bin("pg_ctl"), "-D",
                        str(self.root / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
