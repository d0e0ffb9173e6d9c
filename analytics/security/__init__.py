"""Security: write keys, JWT, roles and scoping, the audit log."""
