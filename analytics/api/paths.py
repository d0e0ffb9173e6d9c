"""The API's base path. Routers carry the full path so a matched route's template is the public URL."""

API_PREFIX = "/api/analytics"
