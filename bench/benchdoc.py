"""What every benchmark shares: the machine it ran on, and its own section of docs/benchmarks.md."""

import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kilobytes = int(meminfo.read_text().split("\n", 1)[0].split()[1])
        memory = f"{kilobytes / 1024 / 1024:.1f} GiB"
    return f"`{' '.join(platform.uname())}`, {os.cpu_count()} cores (nproc), {memory} memory"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def fresh_database(name: str, postgres_url: str, workdir: Path) -> str:
    """Point DATABASE_URL at an empty database: PostgreSQL `name` at that server, made anew, or
    an SQLite file in workdir. Returns how the benchmark's text names it."""
    if postgres_url:
        import psycopg

        server = postgres_url.rstrip("/")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{server}/{name}"
        return "PostgreSQL"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    return "SQLite (a file, WAL)"


def haven_with_demo(env: dict[str, str]) -> None:
    """Migrate the database `env` names and load `haven demo` (in subprocesses, as an operator
    would), then set Django up in this process on the same database."""
    import subprocess
    import sys

    haven = str(Path(sys.executable).parent / "haven")
    subprocess.run([haven, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    subprocess.run([haven, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "haven.settings"
    import django

    django.setup()


def write_section(name: str, lines: list[str]) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (or add it at the end)."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = "\n".join([begin, *lines, end])
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
