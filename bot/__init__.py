"""Answering, and talking to people.

service.py       the answering service every front end uses (one LCEL chain)
answer.py        Answer and Citation, what every front end shows
conversation.py  a chat's recent turns and the follow-up heuristic
follow_ups.py    "and who else?", "when was that?" and answers from a title
config.py        config.yaml, NEWSBOT_* variables and flags, validated once
answerers/       the extractive answerer
llm/             the LLM answerer, its grounding check, chat models and prompts
evaluation/      `newsbot eval`
cli/             the command line; telegram/  the Telegram bot
main.py          the console script, where the two front ends meet

`bot` imports `index`, never the reverse.
"""
