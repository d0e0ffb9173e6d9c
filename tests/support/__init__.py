"""Local stand-ins for outside services, speaking their real protocols (reusable by any test)."""
