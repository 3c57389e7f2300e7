"""Report formats over one results table: terminal table, CSV/JSON files (and HTML)."""
