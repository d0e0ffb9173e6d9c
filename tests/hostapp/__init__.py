"""A small Loopin-like host platform for the collection tests: models, Django views, a FastAPI app."""
