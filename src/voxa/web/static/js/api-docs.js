// Starts the API reference page (/docs); the page itself has no inline script.
/* global SwaggerUIBundle */
const swagger = document.getElementById("swagger-ui");
SwaggerUIBundle({
  url: swagger.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
