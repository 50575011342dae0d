"""Semanscope: do a model's embeddings put translations together?"""

__version__ = "0.1.0"
