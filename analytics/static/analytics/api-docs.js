// Starts Swagger UI on /api/docs (analytics/api/docs_page.py). A file, not an inline script, so the page's
// Content-Security-Policy can forbid inline scripts; the bundle is served from /static/, never a CDN.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
