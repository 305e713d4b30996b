// The stock cards as plain DOM, built from each stock's frame, and the money and change
// texts written into them. Loaded before page.js (Dash loads assets in name order), which
// writes the numbers and calls stockstreamerCards.cards() when an answer brings new frames.
(function () {
  "use strict";

  function money(value) {
    return "$" + value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function signed(value, digits) {
    var text = Math.abs(value).toLocaleString("en-US", {
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    });
    return (value > 0 ? "+" : value < 0 ? "−" : "±") + text;
  }

  function change(row) {
    if (row[1] === null || row[2] === null) return ["No previous close yet", "card-change flat"];
    var arrow = row[1] > 0 ? "▲ " : row[1] < 0 ? "▼ " : "■ ";
    var kind = row[1] > 0 ? "up" : row[1] < 0 ? "down" : "flat";
    return [arrow + signed(row[1], 2) + " (" + signed(row[2], 2) + "%)", "card-change " + kind];
  }

  function el(tag, className, text, attributes) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    Object.keys(attributes || {}).forEach(function (k) { node.setAttribute(k, attributes[k]); });
    return node;
  }

  function parent(node, children) {
    children.forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // Each card from its frame [symbol, name, logo, colour, 52-week low, high]: a button
  // that shows or hides the stock; write() puts the numbers in. The cards are plain DOM,
  // not Dash components: Dash tells each of its components about every store change, which
  // cost ~30 ms a tick at 30 stocks. A click goes to Dash as an operation (page.js).
  function card(f, editable) {
    var symbol = f[0], low = f[4], high = f[5];
    var logo = f[2]
      ? el("img", "card-logo", "", { src: f[2], alt: "", width: 32, height: 32 })
      : el("span", "card-logo card-logo-none", symbol[0], { "aria-hidden": "true" });
    var range = low === null || high === null
      ? el("span", "card-range card-range-none", "No 52-week range yet")
      : parent(el("span", "card-range", "", { title: "Where today's price sits in its 52-week range" }), [
        parent(el("span", "card-range-bar"), [el("span", "card-range-marker")]),
        el("span", "card-range-low", money(low), { title: "52-week low" }),
        el("span", "card-range-label", "52-wk"),
        el("span", "card-range-high", money(high), { title: "52-week high" }),
      ]);
    var button = el("button", "stock-card", "", {
      type: "button", "aria-pressed": "true", "data-symbol": symbol,
      title: "Hide " + symbol + " on the chart",
    });
    button.style.setProperty("--accent", f[3]);
    parent(button, [
      logo,
      parent(el("span", "card-head"), [el("span", "card-symbol", symbol), el("span", "card-name", f[1])]),
      el("span", "card-price", "—"),
      el("span", "card-change"),
      range,
      el("span", "card-fresh"),
    ]);
    if (!editable) return button;
    // A button may not hold another: the remove button sits beside the card, over its corner.
    return parent(el("div", "card-slot editable"), [button, el("button", "card-remove", "×", {
      type: "button", "data-symbol": symbol, "aria-label": "Remove " + symbol + " from the watchlist",
      title: "Remove " + symbol + " from the watchlist (its prices are kept)",
    })]);
  }

  var built = null; // the frames the cards were last built from, as JSON

  function cards(frames, editable) {
    var box = document.getElementById("cards"), text = JSON.stringify([frames, editable]);
    if (!box || !frames || text === built) return; // the same cards: keep them, and the focus
    built = text;
    var focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.symbol : null;
    box.replaceChildren.apply(box, frames.map(function (f) { return card(f, editable); }));
    var again = focused && box.querySelector('.stock-card[data-symbol="' + focused + '"]');
    if (again) again.focus();
  }
  window.stockstreamerCards = { cards: cards, change: change, el: el, money: money };
})();
