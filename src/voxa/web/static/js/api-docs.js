// Starts the API reference page (/docs or /redoc); the page itself has no inline script.
/* global SwaggerUIBundle, Redoc */
const swagger = document.getElementById("swagger-ui");
if (swagger) {
  SwaggerUIBundle({
    url: swagger.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
}
const redoc = document.getElementById("redoc");
if (redoc) {
  Redoc.init(redoc.dataset.openapiUrl, {}, redoc);
}
