"""What every benchmark prints: a titled two-column table stamped with the machine and code."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def revision() -> str:
    """The repository's commit, marked when the working tree has changes."""
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    """Print the rows under a line naming the time, cores, load, threads and commit."""
    width = max(len(label) for label, _ in rows)
    threads = ""
    if "torch" in sys.modules:
        threads = f", torch threads {sys.modules['torch'].get_num_threads()}"
    print(
        f"\n{title} ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}{threads}, python {sys.version.split()[0]}, "
        f"code {revision()})"
    )
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


def newsbot_script() -> str:
    """The `newsbot` console script of this venv, as users run it."""
    script = shutil.which("newsbot", path=str(Path(sys.executable).parent))
    if script is None:
        sys.exit("the newsbot console script is not installed in this venv (pip install -e .)")
    return script
