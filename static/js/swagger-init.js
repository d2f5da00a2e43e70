// Starts the vendored Swagger UI on /schema without an inline script (strict CSP).
window.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("swagger-container");
  window.ui = SwaggerUIBundle({
    url: holder.getAttribute("data-spec-url"),
    dom_id: "#swagger-container",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  });
});
