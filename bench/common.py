"""What the benchmarks share: their own databases, Django set up on one, counting and timing
SQL statements, reading statements and plans, the machine, and bench/RESULTS.md sections.

Imported by the scripts in bench/ (`python bench/<name>.py` puts bench/ on the path); importing
it puts the project on the path too. Nothing here imports Django models at import time: a
script points DATABASE_URL at its own database first, then calls `setup_django`.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inmail_site.settings")


# --------------------------------------------------------------------------------------------
# The benchmarks' own databases
# --------------------------------------------------------------------------------------------


def database_url(name: str) -> str:
    """The URL of database `name` on the PostgreSQL server DATABASE_URL names."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1/x")
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def maintenance_dsn(url: str) -> str:
    """The server's `postgres` database, through which databases are created and dropped."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/postgres"))


def database_comment(url: str, name: str) -> str | None:
    """The comment on database `name`, "" when it has none, None when it doesn't exist."""
    import psycopg

    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        found = admin.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
            "FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    return None if found is None else str(found[0])


def database_exists(url: str, name: str) -> bool:
    return database_comment(url, name) is not None


def recreate_database(url: str, name: str, *, template: str | None = None) -> None:
    """Drop `name` and create it empty, or as a copy of `template`."""
    import psycopg

    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"{copy}')


def reset_database(url: str) -> None:
    """Drop and create the database `url` names (PostgreSQL), or delete its file (SQLite)."""
    if url.startswith("sqlite"):
        Path(urlsplit(url).path).unlink(missing_ok=True)
        return
    recreate_database(url, urlsplit(url).path.lstrip("/"))


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database `url` names if it is missing (SQLite makes its file)."""
    if url.startswith("sqlite"):
        return
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def mark_built(url: str, name: str, comment: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_dsn(url), autocommit=True) as admin:
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'")


def setup_django(url: str, environ: dict[str, str]) -> None:
    """Point Django at the benchmark's database `url`, with `environ` set, and set it up."""
    os.environ["DATABASE_URL"] = url
    os.environ.update(environ)
    import django

    django.setup()


# No publishing to a broker, and no query log growing in memory. The pages are requested over
# plain http in-process, so the https redirect that DEBUG=0 turns on is off.
QUIET = {"LEDGER_PUBLISH_TASKS": "0", "DEBUG": "0", "SECURE_SSL_REDIRECT": "0"}


# --------------------------------------------------------------------------------------------
# Counting and timing SQL statements
# --------------------------------------------------------------------------------------------


@dataclass
class Statements:
    """An execute wrapper that counts the statements it sees and the time spent in them."""

    count: int = 0
    seconds: float = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


@contextmanager
def counted() -> Iterator[Statements]:
    from django.db import connection

    statements = Statements()
    with connection.execute_wrapper(statements):
        yield statements


# --------------------------------------------------------------------------------------------
# Reading statements and plans
# --------------------------------------------------------------------------------------------


def collapse(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def statement_label(sql: str) -> str:
    """A short name for a statement: verb, table, what it filters and sorts on, row locks."""
    sql = collapse(sql)
    verb = sql.split(" ", 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE) "([a-z_]+)"', sql)
    where = re.search(r" WHERE (.*?)(?: ORDER BY| LIMIT| FOR UPDATE| RETURNING|$)", sql)
    order = re.search(r" ORDER BY (.*?)(?: LIMIT| FOR UPDATE|$)", sql)
    label = f"{verb} {table.group(1) if table else '?'}"
    if where:
        label += " by " + ", ".join(sorted(set(re.findall(r'"[a-z_]+"\."([a-z_]+)"', where[1]))))
    if order:
        # Django names the sort columns `"table"."column"`, or `"column"` / a position when the
        # column is selected too.
        selected = re.findall(r'"([a-z_]+)"(?:,| FROM)', sql.split(" FROM ", 1)[0] + " FROM")
        names = []
        for term in (term.strip() for term in order[1].split(",")):
            quoted = re.findall(r'"([a-z_]+)"', term)
            position = term.split(" ")[0]
            if quoted:
                names.append(quoted[-1])
            elif position.isdigit() and int(position) <= len(selected):
                names.append(selected[int(position) - 1])
            else:
                names.append(position)
        label += " order by " + ", ".join(names)
    if " LIMIT 1" in sql:
        label += " limit 1"
    if " FOR UPDATE" in sql:
        label += " for update"
    return label


def read_of(sql: str) -> str | None:
    """The SELECT a statement runs (a server-side cursor wraps it in DECLARE), or None."""
    sql = collapse(sql)
    if sql.upper().startswith("DECLARE"):
        sql = sql.split(" FOR ", 1)[1]
    return sql if sql.upper().startswith("SELECT") else None


def explain(sql: str, *, analyze: bool = False) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {'(ANALYZE, BUFFERS) ' if analyze else ''}{sql}")
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[-1] for row in cursor.fetchall()]


def access_paths(plan: list[str]) -> str:
    """The scans of a plan, and the buffers it touched when it was run."""
    scans = [
        re.sub(r"\s+\(cost=.*", "", line.strip().lstrip("-> "))
        for line in plan
        if re.search(r"Scan|SCAN|SEARCH", line)
    ]
    touched = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", "\n".join(plan))
    text = "; ".join(scans) or plan[0].strip()
    executed = re.search(r"Execution Time: ([\d.]+) ms", "\n".join(plan))
    if touched:
        text += f" — {int(touched[1]) + int(touched[2] or 0)} buffers"
    if executed:
        text += f", {float(executed[1]):.2f} ms"
    return text


def database_counters() -> tuple[int, int] | None:
    """Buffers touched and rows read so far in this database (PostgreSQL's statistics).

    Only the benchmark uses its database, so the difference over the timed work is that work
    alone, free of the wall-clock noise of a shared machine.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT blks_hit + blks_read, tup_returned + tup_fetched "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        buffers, rows = cursor.fetchone()
    return int(buffers), int(rows)


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """The code (`git describe`), CPUs, Python, OS and database server a run measured."""
    from django.db import connection

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.*)", cpuinfo.read_text())
        cpu = found.group(1) if found else cpu
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    try:
        # A fixed command, no input from anywhere: which code was measured.
        commit = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
        "database": database,
    }


def machine_line(info: dict[str, str]) -> str:
    return (
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['database']}, {info['os']}."
    )


# --------------------------------------------------------------------------------------------
# bench/RESULTS.md: a section per benchmark, a subsection per size
# --------------------------------------------------------------------------------------------


def split_sections(text: str, level: str) -> list[str]:
    """`text` cut before each heading of `level` ("##" or "###")."""
    return re.split(rf"(?m)^(?={level} )", text)


def section_of(text: str, heading: str) -> str:
    """The "## " section of `text` that starts with `heading`, or ""."""
    return next(
        (part for part in split_sections(text, "##") if part.startswith(heading + "\n")), ""
    )


def previous_setup_line(heading: str, subheading: str, otherwise: str) -> str:
    """A run that reused a kept database keeps the set-up line of the run that built it."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    for part in split_sections(section_of(text, heading), "###"):
        if part.startswith(subheading + "\n"):
            found = re.search(r"(?m)^Set-up \(not timed above\).*$", part)
            if found:
                return found.group(0)
    return otherwise


def size_of(part: str) -> int:
    """The N of a subsection ("### 10,000 seats" → 10000)."""
    found = re.match(r"### ([\d,]+) ", part)
    return int(found.group(1).replace(",", "")) if found else 0


def replace_subsection(
    heading: str,
    intro: str,
    subheading: str,
    body: str,
    *,
    summary: Callable[[list[str]], list[str]] | None = None,
    in_place: bool,
) -> None:
    """Replace the subsection `subheading` of section `heading` in RESULTS.md with `body`,
    the subsections in order of size, after `intro` and the `summary` of them all; keep
    everything else. The section stays where it was with `in_place`, else it moves to the end.

    Other benchmarks write the rest of the file, so it is read again just before writing.
    """
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    parts = split_sections(text, "##")
    ours = section_of(text, heading)
    runs = [
        part.rstrip("\n") + "\n"
        for part in split_sections(ours, "###")[1:]
        if not part.startswith(subheading + "\n")
    ]
    runs = sorted([*runs, body], key=size_of)
    table = "\n".join(summary(runs)) + "\n\n" if summary else ""
    section = f"{heading}\n\n{intro}\n\n{table}" + "\n".join(runs)
    if in_place and ours:
        kept = [section if part == ours else part.rstrip("\n") + "\n" for part in parts if part]
        RESULTS.write_text("\n".join(kept))
    else:
        kept = [part.rstrip("\n") + "\n" for part in parts if part and part != ours]
        RESULTS.write_text("\n".join([*kept, section]))
