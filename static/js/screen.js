// Counter screens: show one guide at a time. A guide's body flows into columns of the screen's
// height, so nothing is cut; when it needs more than one screen, its pages turn first, then the
// next guide comes. Every `data-interval` seconds one step. htmx replaces #slides when the
// content changes; rotation picks up the new slides by itself.
(function () {
  var index = 0;
  var page = 0;

  function slides() {
    return document.querySelectorAll("#slides .slide");
  }

  function pagesOf(slide) {
    var body = slide.querySelector(".slide-body");
    if (!body) return 1;
    var gap = parseFloat(getComputedStyle(body).columnGap) || 0;
    var step = body.clientWidth + gap;
    return Math.max(1, Math.ceil((body.scrollWidth + gap) / step - 0.01));
  }

  function show() {
    var all = slides();
    all.forEach(function (s, i) { s.classList.toggle("active", i === index); });
    var slide = all[index];
    if (!slide) return;
    var body = slide.querySelector(".slide-body");
    var pages = pagesOf(slide);
    if (page >= pages) page = 0;
    slide.dataset.pages = String(pages);
    slide.dataset.page = String(page);
    if (body) {
      var gap = parseFloat(getComputedStyle(body).columnGap) || 0;
      body.scrollLeft = page * (body.clientWidth + gap);
    }
    var label = slide.querySelector(".slide-page");
    if (label) label.textContent = pages > 1 ? "第 " + (page + 1) + " / " + pages + " 屏" : "";
  }

  function tick() {
    var all = slides();
    var root = document.getElementById("slides");
    if (all.length) {
      if (page + 1 < pagesOf(all[index] || all[0])) {
        page += 1;
      } else {
        page = 0;
        index = (index + 1) % all.length;
      }
      show();
    }
    var seconds = parseInt((root && root.dataset.interval) || "20", 10);
    setTimeout(tick, Math.max(seconds, 5) * 1000);
  }

  // For tests and staff previews: show a given guide and page at once.
  window.onetripScreen = {
    show: function (i, p) { index = i; page = p || 0; show(); return pagesOf(slides()[index]); },
  };

  document.addEventListener("htmx:afterSwap", function () {
    if (index >= slides().length) { index = 0; page = 0; }
    show();
  });
  document.addEventListener("DOMContentLoaded", function () {
    show();
    var root = document.getElementById("slides");
    setTimeout(tick, Math.max(parseInt((root && root.dataset.interval) || "20", 10), 5) * 1000);
  });
})();
