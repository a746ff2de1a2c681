"""The offline answerer and the model it reads with.

candidates.py   the quotable sentences (and titles) of retrieved chunks, and a shortlist
reader.py       the answer model: a cross-encoder in int8 ONNX (weights in model/)
rerank.py       the chain's rerank step: chunks ordered by their best sentence
extractive.py   the answer: the likeliest sentences, quoted, or an abstention

The LLM answerer, which falls back to this one, lives in `bot.llm`.
"""
