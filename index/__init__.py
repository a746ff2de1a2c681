"""The writing side of newsbot: load articles, chunk, embed and store them in Chroma.

Nothing heavy is imported here; models and stores are built by the entry points.
"""
