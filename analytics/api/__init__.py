"""The FastAPI application: app factory, dependencies, error handlers, routers, schemas."""
