"""Pydantic models at the HTTP edge (…In for requests, …Out for responses)."""
