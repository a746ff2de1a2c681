"""LLM answers: a chat model writes from numbered sources, and is checked.

models.py     the providers (llama.cpp, OpenAI-compatible, Ollama) and token counting
answerer.py   the generative answerer: sources in, a cited answer out, with fallback
grounding.py  the check that an answer is supported by the sources it cites
claims/       a claim verifier's training pairs, script and runner (not used: see its card)
support.py    how well a source's passages support one sentence: what it adds, stated nearby
markers.py    the [n] citation markers
condense.py   follow-ups rewritten into standalone questions
prompts.py    the templates in prompts/ loaded as chat prompts
"""
