"""The claim verifier: a cross-encoder trained here to tell a stated claim from an edited one.

pairs.py     training pairs from real paragraphs: each sentence, light rewrites, edited copies
train.py     `python -m bot.llm.claims.train`: fine-tune, export int8 ONNX into model/, measure
verifier.py  the exported model run by onnxruntime
model/       MODEL_CARD.md and figures.json of the last run (no weights ship)

Not used by the grounding check: the model trained here caught negations and appended
clauses, not swapped names, numbers or roles, and removed no invented answer on the
tuning data without refusing good ones (see the card).
"""
