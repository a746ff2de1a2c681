"""Prompt templates shipped as data files (see README.md); no code lives here."""
