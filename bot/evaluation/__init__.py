"""`newsbot eval`: retrieval and answer quality on a labelled question set.

queries.py     the corpus and question files, checked line by line
eval_index.py  the eval's own index, rebuilt only when the corpus or pipeline changes
run.py         every question through the retriever and answerer; the report
withheld.py    the unanswerable set: questions asked with their gold documents withheld
metrics.py     hit@k, reciprocal rank, answer containment, percentiles
"""
