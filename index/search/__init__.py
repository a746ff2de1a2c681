"""Finding articles again: hybrid retrieval (dense + BM25), time-aware.

retriever.py  the LangChain retriever: fusion, date preference, near-duplicates
periods.py    the period a question names ("last week", "in March 2023")
"""
