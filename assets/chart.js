// Draws each stock's logo at the first point of its line, at a fixed size on
// screen whatever the zoom. The server puts the anchor points in
// layout.meta.logos; plotly's own layout images are sized in axis units and
// would grow and shrink with every zoom.
(function () {
  "use strict";
  var SIZE = 28;

  function layerFor(gd) {
    var host = gd.parentElement;
    var layer = host.querySelector(":scope > .logo-layer");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "logo-layer";
      host.style.position = "relative";
      host.appendChild(layer);
    }
    layer.style.left = gd.offsetLeft + "px";
    layer.style.top = gd.offsetTop + "px";
    return layer;
  }

  function place(gd) {
    var full = gd._fullLayout;
    if (!full || !full.xaxis || !full.yaxis || !full._size) return;
    var logos = (gd.layout && gd.layout.meta && gd.layout.meta.logos) || [];
    var layer = layerFor(gd);
    var xa = full.xaxis, ya = full.yaxis, box = full._size;
    var keep = {};
    var placed = [];
    logos.forEach(function (logo) {
      var img = layer.querySelector('img[data-symbol="' + logo.symbol + '"]');
      if (!img) {
        img = document.createElement("img");
        img.className = "stock-logo";
        img.dataset.symbol = logo.symbol;
        img.alt = logo.symbol + " logo";
        img.title = logo.symbol;
        img.width = SIZE;
        img.height = SIZE;
        layer.appendChild(img);
      }
      if (img.getAttribute("src") !== logo.url) img.setAttribute("src", logo.url);
      var px = box.l + xa.l2p(xa.d2l(logo.x));
      var py = box.t + ya.l2p(ya.d2l(logo.y));
      var inside = px >= box.l && px <= box.l + box.w && py >= box.t && py <= box.t + box.h;
      // Keep the whole logo over the plot, and step aside from logos already
      // placed there (lines that start at the same price would hide each other).
      px = Math.max(px, box.l + SIZE / 2 + 2);
      placed.forEach(function (p) {
        if (Math.abs(p.x - px) < SIZE && Math.abs(p.y - py) < SIZE) px = p.x + SIZE + 4;
      });
      placed.push({ x: px, y: py });
      img.style.display = inside && isFinite(px) && isFinite(py) ? "" : "none";
      img.style.left = px - SIZE / 2 + "px";
      img.style.top = py - SIZE / 2 + "px";
      keep[logo.symbol] = true;
    });
    Array.prototype.forEach.call(layer.querySelectorAll("img"), function (img) {
      if (!keep[img.dataset.symbol]) img.remove();
    });
  }

  function attach() {
    var gd = document.querySelector("#chart .js-plotly-plot");
    if (!gd || !gd.on || gd.__logosAttached) return;
    gd.__logosAttached = true;
    ["plotly_afterplot", "plotly_relayout", "plotly_relayouting"].forEach(function (name) {
      gd.on(name, function () { place(gd); });
    });
    window.addEventListener("resize", function () { place(gd); });
    place(gd);
  }

  new MutationObserver(attach).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", attach);
})();
