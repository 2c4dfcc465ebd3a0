"""Evidence KB: an offline-first knowledge base of research evidence."""

__version__ = "0.1.0"
