"""Load, validate and build the curated evidence into SQLite."""
