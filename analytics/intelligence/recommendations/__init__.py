"""Listing recommendations for a person (docs/recommendations.md): what is open, what the person likes, the
hybrid ranking with its reasons, and its evaluation against popularity and the simulator's oracle."""
