"""News from the web: pages and RSS/Atom feeds, fetched politely and safely.

following.py  what the CLI and the bot call: fetch pages, add a URL (page or feed),
              follow, unfollow and refresh feeds
fetch.py      httpx with timeouts, size caps, per-host slots, retries and robots.txt
guard.py      the SSRF guard: only public http(s) addresses
pages.py      a fetched page to an Article (trafilatura)
feeds.py      parsing feeds, discovering them, and a refresh of one feed
feed_list.py  the followed feeds, in the shared `state` database (an old feeds.json
              is imported once); migrations/ creates its tables
"""
