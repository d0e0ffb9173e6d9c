"""Segments and personas: behavioural features per user (features), clustering with the number of
segments chosen from the data (clustering), names and descriptions from the centres (naming), and the
stored personas and memberships (service)."""
