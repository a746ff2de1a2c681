"""The embedding model: sentence-transformers for chunks, an int8 ONNX copy for questions.

models.py  resolving model names to packaged copies; the document and query encoders
onnx.py    all-MiniLM-L6-v2 in int8 ONNX (questions, without importing PyTorch)
mpnet.py   all-mpnet-base-v2 assembled from the five PyPI parts that carry it
"""
