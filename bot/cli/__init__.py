"""The command line (click): one module per command group.

app.py         the `newsbot` group and its one-line user errors
articles.py    ingest, articles (once `sources`), remove, stats, migrate
asking.py      ask and chat
evaluating.py  eval
feeds.py       feeds follow / list / unfollow / refresh
options.py     --config/--data-dir, --mode, --as-of/--since/--until, hidden aliases
output.py      how answers and their sources are printed
progress.py    rich progress bars and the eval table
durations.py   intervals as people write them (30m, 1h30m)

`newsbot telegram` is added by `bot.main`, where the two front ends meet.
"""
