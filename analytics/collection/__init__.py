"""Collection: the one ingestion pipeline and its entry points."""
