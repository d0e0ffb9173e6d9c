"""The web dashboard at /dashboard/ (docs/dashboard.md): Django views over the same selectors the API uses.

Pages read rollups, stored metrics, profiles and model outputs only; charts are plotly figures drawn by
plotly.js served from the plotly wheel (never a CDN)."""
