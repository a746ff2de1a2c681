"""The claim verifier: a cross-encoder trained here to tell a stated claim from an edited one.

pairs.py     training pairs from real paragraphs: each sentence, light rewrites, edited copies
train.py     `python -m bot.llm.claims.train`: fine-tune, export int8 ONNX into model/, measure
verifier.py  the exported model run by onnxruntime
model/       MODEL_CARD.md and figures.json of the last run (no weights ship: see the card)

Not used by the grounding check: the run made here learnt nothing (see the card).
"""
