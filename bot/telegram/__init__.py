"""The Telegram front end: python-telegram-bot v22, long polling or webhook replicas.

app.py         builds the Application and runs it (`newsbot telegram [--webhook URL]`)
webhook.py     checks --webhook/--listen and reads the webhook secret
handlers.py    commands, questions, the access gate and the one error handler
admin.py       /add, /feeds, /refresh, /unfollow for admins, and the scheduled feed refresh
state.py       what lives in bot_data / chat_data / user_data
shared.py      loads and saves each chat's state in the shared state (bot/state/)
access.py      allow-list and "is this group message for me?"
ordering.py    each update once; concurrent across chats, one at a time within one (leases)
formatting.py  HTML escaping, citation links and splitting at 4096 visible characters
citations.py   the Sources pager's pages (a chat's cited snippets) and its callback data
pager.py       /sources and the Sources buttons
leader.py      which replica leads (feed refresh, other ingests), by a lease
arrivals.py    alerts for articles other processes ingested (the generation marker)
alerts.py      matching watches, the alert outbox and its sending
sending.py     Telegram's bot-wide send limit, shared by every replica
delivery.py    sending HTML with a plain-text fallback; "typing…" while answering
redaction.py   keeps the bot token and other secrets out of every log line
"""
