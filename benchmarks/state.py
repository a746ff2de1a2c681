"""What the shared bot state costs each Telegram update, on SQLite and on Postgres.

Every update a replica handles makes the same round of state calls: claim the update
id, take the chat's lease, load the chat, count the question, take a send token, save
the chat, free the lease (bot/telegram/ordering.py, shared.py, sending.py). This runs
that round for `--chats` chats x `--updates` updates from `--workers` threads (as
replicas' answer threads would), against a SQLite file and against a throw-away
PostgreSQL cluster (tests/harness/postgres.py), and prints p50/p95 per round and the
rounds per second, Postgres against SQLite in the same run.

    python benchmarks/state.py
    python benchmarks/state.py --chats 100 --updates 5 --workers 8
"""

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

CHAT = {"turns": 3, "answers": {}, "conversations": {"1": [{"question": "q" * 80}] * 3}}


def one_round(store: object, budget: object, chat_id: int, update_id: int) -> float:
    """One update's state calls; the seconds they took."""
    start = time.perf_counter()
    holder = f"bench:{update_id}"
    store.take_update(1, update_id)  # type: ignore[attr-defined]
    while not store.take_lease(f"chat:{chat_id}", holder, 60.0):  # type: ignore[attr-defined]
        time.sleep(0.005)
    store.load_chat(chat_id)  # type: ignore[attr-defined]
    store.take_question(chat_id, 600)  # type: ignore[attr-defined]
    while (wait := budget.take()) > 0:  # type: ignore[attr-defined]
        time.sleep(wait)
    store.save_chat(chat_id, CHAT)  # type: ignore[attr-defined]
    store.free_lease(f"chat:{chat_id}", holder)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def run(url: str, args: argparse.Namespace) -> tuple[list[float], float]:
    """Every round on one database: their durations and the wall time."""
    from bot.state import StateStore, open_database
    from bot.state.budget import SendBudget

    store = StateStore(open_database(url))
    budget = SendBudget(store, "bench", 10_000.0, 10_000.0)  # measures the row, not the cap
    jobs = [
        (chat, chat * 1000 + n) for n in range(args.updates) for chat in range(1, args.chats + 1)
    ]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        times = list(pool.map(lambda job: one_round(store, budget, *job), jobs))
    wall = time.perf_counter() - start
    store.close()
    return times, wall


def main() -> None:
    """Measure both engines and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    from harness.emulator_client import free_port
    from harness.postgres import PostgresCluster

    scratch = Path(tempfile.mkdtemp(prefix="state-bench-"))
    results = {"SQLite": run(f"sqlite:///{scratch / 'state.sqlite'}", args)}
    cluster = PostgresCluster(free_port()).start()
    try:
        results["Postgres"] = run(cluster.url, args)
    finally:
        cluster.remove()
    rounds = args.chats * args.updates
    print(f"{rounds} updates ({args.chats} chats x {args.updates}), {args.workers} threads")
    print("| engine | p50 ms | p95 ms | updates/s |")
    print("|---|---|---|---|")
    rows = {}
    for name, (times, wall) in results.items():
        cuts = statistics.quantiles(times, n=20)
        rows[name] = (statistics.median(times), cuts[18], rounds / wall)
        p50, p95, rate = rows[name]
        print(f"| {name} | {p50 * 1000:.1f} | {p95 * 1000:.1f} | {rate:.0f} |")
    ratio = rows["Postgres"][0] / rows["SQLite"][0]
    print(f"Postgres / SQLite p50: {ratio:.2f}x")


if __name__ == "__main__":
    main()
