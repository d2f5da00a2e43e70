// Counter screens: show one guide at a time and move on every `data-interval` seconds.
// htmx replaces #slides when the content changes; rotation picks up the new slides by itself.
(function () {
  var index = 0;
  function tick() {
    var root = document.getElementById("slides");
    if (!root) return;
    var slides = root.querySelectorAll(".slide");
    if (slides.length > 1) {
      index = (index + 1) % slides.length;
      slides.forEach(function (s, i) { s.classList.toggle("active", i === index); });
    }
    var seconds = parseInt(root.dataset.interval || "20", 10);
    setTimeout(tick, Math.max(seconds, 5) * 1000);
  }
  document.addEventListener("htmx:afterSwap", function () {
    var slides = document.querySelectorAll("#slides .slide");
    if (index >= slides.length) index = 0;
    slides.forEach(function (s, i) { s.classList.toggle("active", i === index); });
  });
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("slides");
    setTimeout(tick, Math.max(parseInt((root && root.dataset.interval) || "20", 10), 5) * 1000);
  });
})();
