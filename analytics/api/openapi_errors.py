"""The error answers of every operation, in the OpenAPI schema as the API gives them.

FastAPI documents only what a route declares, and documents its 422 in its own `{"detail": [...]}` shape.
The API answers every error in one shape (analytics/api/errors.py), and some errors come from rules that
hold for whole classes of route. This adds them where they apply, so a client (or the fuzzing tier,
tests/fuzz) finds every status the API can give documented, with its body:

- 400 `invalid_json` / `bad_request` where a body is read;
- 401 `unauthenticated`/`missing_token`/`invalid_token`/`invalid_api_key` where a credential is required;
- 403 `forbidden_role` where a JWT role is checked (write keys have no roles);
- 404 where a path names a resource (unknown, or another host's);
- 422 `validation_failed` (and its specific codes) where a parameter or body is checked;
- 429 everywhere (declared on the application); routes add their own (408, 409, 413, 415, 503).

Every 4xx/5xx answer's body is the `Error` schema."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "Error"
_ERROR: dict[str, Any] = {
    "title": ERROR_SCHEMA,
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "stable, machine-readable (docs/api.md, 'Errors')"},
                "message": {"type": "string", "description": "for people; may change"},
                "details": {"description": "what the code needs to be acted on; {} when nothing"},
            },
        }
    },
}
_FASTAPI_422 = "Validation Error"  # FastAPI's own description of the 422 it adds
_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
_BAD_BODY = "the body is not valid JSON (`invalid_json`, `bad_request`)"
_UNAUTHENTICATED = "no credential, or one that is invalid, expired or revoked (`missing_token`, `invalid_token`, "
_UNAUTHENTICATED += "`missing_api_key`, `invalid_api_key`)"
_FORBIDDEN = "the token's role may not use this route (`forbidden_role`)"
_NOT_FOUND = "no such resource, or one outside the caller's scope (another host's)"
_INVALID = "a parameter or the body breaks its documented rule (`validation_failed` or a specific code)"


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers to every operation of `schema` (in place); returns it."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})[ERROR_SCHEMA] = _ERROR
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                _document_operation(operation)
    return schema


def _document_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    validated = "422" in responses or bool(operation.get("parameters")) or "requestBody" in operation
    wanted = {
        "400": _BAD_BODY if "requestBody" in operation else None,
        "401": _UNAUTHENTICATED if schemes else None,
        "403": _FORBIDDEN if "writeKey" not in schemes and schemes else None,
        "404": _NOT_FOUND if any(p.get("in") == "path" for p in operation.get("parameters", [])) else None,
        "422": _INVALID if validated else None,
    }
    for status, description in wanted.items():
        if description is None:
            continue
        declared = responses.setdefault(status, {"description": description})
        if declared.get("description") == _FASTAPI_422:
            declared["description"] = description
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
