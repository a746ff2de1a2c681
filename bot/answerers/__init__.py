"""The offline answerer: sentences quoted from the retrieved chunks (extractive.py).

The LLM answerer, which falls back to this one, lives in `bot.llm`.
"""
