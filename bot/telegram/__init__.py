"""The Telegram front end: python-telegram-bot v22 with long polling, over the answering service.

app.py         builds the Application and runs it (`newsbot telegram`)
handlers.py    commands, questions, the Sources pager and the one error handler
state.py       what lives in bot_data / chat_data / user_data
access.py      allow-list, per-user rate limit, "is this group message for me?"
ordering.py    updates run concurrently across chats and in order within one
formatting.py  HTML escaping, citation links and splitting at 4096 visible characters
sources.py     the Sources pager and its callback data
delivery.py    sending HTML with a plain-text fallback; "typing…" while answering
redaction.py   keeps the bot token out of every log line
"""
