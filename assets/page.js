// The page's clientside callbacks: the theme, and the cards' text, freshness and status
// line drawn from the numbers of the last answer. The server sends numbers only (a few
// dozen bytes per stock); this file writes them as text and keeps "2 s ago" current
// between ticks, and notices when answers stop arriving. The cards are cards.js's.
(function () {
  "use strict";
  var C = window.stockstreamerCards;
  var ET = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/New_York", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false,
  });
  // The last numbers (server time, client time), and the last answer of any kind: in a
  // database outage the server answers without numbers, and the page must not say it
  // cannot reach the server.
  var received = { at: null, client: null, answered: null, refused: null };

  // A callback refused for want of a sign-in (an OpenID Connect session that ran out, a
  // password changed): the banner says so, and how to get back, at once; not, three ticks
  // later, that the server cannot be reached. Dash's renderer calls the global fetch.
  if (window.fetch) {
    var fetchBefore = window.fetch;
    window.fetch = function (input) {
      var answer = fetchBefore.apply(this, arguments);
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (url.indexOf("_dash-update-component") < 0) return answer;
      return answer.then(function (response) {
        received.refused = response.status === 401 ? Date.now() : null;
        if (received.refused) clock();
        return response;
      });
    };
  }

  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 172800) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }

  function fresh(row, open, every, serverNow) {
    if (row[3] === null) return ["No price yet", "card-fresh"];
    var age = serverNow - row[3];
    if (!open) return ["Market closed · " + ago(age), "card-fresh closed"];
    if (age > 3 * every) return ["Stale · " + ago(age), "card-fresh stale"];
    return [ago(age), "card-fresh"];
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !window.dash_clientside.set_props) return;
    var remove = event.target.closest(".card-remove");
    if (remove) {
      clicks += 1;
      window.dash_clientside.set_props("watch-edit", { data: { symbol: remove.dataset.symbol, n: clicks } });
      return;
    }
    var button = event.target.closest("[data-control]");
    if (button) return send(button.dataset.control, button.dataset.value || null);
    var card = event.target.closest(".stock-card");
    if (!card || !last.numbers) return; // no answer yet: nothing to hide or show against
    var symbol = card.dataset.symbol, before = hiddenNow();
    var hidden = before.filter(function (s) { return s !== symbol; });
    if (hidden.length === before.length) hidden.push(symbol);
    hidden.sort();
    wanted = { hidden: hidden, at: Date.now() };
    write(); // the card shows the choice at once; the chart follows with the answer
    send("hidden", hidden);
  });
  var clicks = 0;

  // Each click on a view, a range, "Follow live" or a card is a numbered operation, and
  // every one the URL has not yet taken goes with each request (app/control_ops.py): a
  // second click within one round trip keeps the first, which the URL the request carries
  // does not have yet.
  var ops = [], numbered = 0, MOST_OPS = 50; // the server takes up to 100 (app/control_ops.py)

  function send(kind, value) {
    numbered += 1;
    ops.push([numbered, kind, value]);
    if (ops.length > MOST_OPS) ops = ops.slice(-MOST_OPS); // a server long away: the newest count
    window.dash_clientside.set_props("control-ops", { data: { ops: ops.slice() } });
  }

  // Called by Dash when an answer says which operations the URL has taken.
  function applied(number) {
    ops = ops.filter(function (op) { return op[0] > (number || 0); });
    return window.dash_clientside.no_update;
  }

  // The hidden stocks the user asked for, until an answer shows them (or a few seconds).
  var wanted = null, WANTED_MS = 5000;

  function hiddenNow() {
    var shown = (last.numbers && last.numbers.hidden) || [];
    if (wanted && (wanted.hidden.join() === shown.join() || Date.now() - wanted.at > WANTED_MS)) {
      wanted = null;
    }
    return wanted ? wanted.hidden : shown;
  }

  // The numbers of the last answer, written into the page's text by write() at each answer;
  // a plain timer keeps the freshness ("2 s ago"), the banner and the mode current every
  // second, touching only those (a second's work is one small text change per card). The
  // elements written here are drawn once and never given new props by Dash, so React leaves
  // what this writes alone; going through Dash's callbacks every second cost ~25 ms a
  // second at 6 stocks and ~150 ms at 30.
  var last = { numbers: null, config: null, since: "", fresh: [] };

  function set(el, prop, value) {
    if (el && el[prop] !== value) el[prop] = value;
  }

  function write() {
    var numbers = last.numbers;
    if (!numbers || !last.config) return;
    var hidden = {};
    hiddenNow().forEach(function (s) { hidden[s] = true; });
    last.since = ET.format(new Date(numbers.at)) + " ET";
    last.fresh = [];
    Array.prototype.forEach.call(document.querySelectorAll(".stock-card"), function (card) {
      var symbol = card.dataset.symbol, shown = !hidden[symbol], row = (numbers.cards || {})[symbol];
      card.setAttribute("aria-pressed", shown ? "true" : "false");
      set(card, "className", shown ? "stock-card" : "stock-card is-hidden");
      set(card, "title", (shown ? "Hide " : "Show ") + symbol + " on the chart");
      if (!row) return;
      var price = card.querySelector(".card-price"), moved = card.querySelector(".card-change");
      var marker = card.querySelector(".card-range-marker"), delta = C.change(row);
      set(price, "textContent", row[0] === null ? "—" : C.money(row[0]));
      set(moved, "textContent", delta[0]);
      set(moved, "className", delta[1]);
      if (marker) {
        marker.style.display = row[4] === null ? "none" : "";
        if (row[4] !== null) marker.style.left = (row[4] * 100).toFixed(1) + "%";
      }
      last.fresh.push([card.querySelector(".card-fresh"), row]);
    });
    set(document.getElementById("updated"), "textContent", "Updated " + last.since);
    set(document.getElementById("market-status"), "textContent", numbers.market);
    clock();
  }

  // Every second: each card's freshness, and whether answers have stopped coming.
  function clock() {
    var numbers = last.numbers, config = last.config;
    if (!numbers || !config) return;
    if (last.fresh.some(function (f) { return f[0] && !f[0].isConnected; })) return write();
    var serverNow = numbers.at + (Date.now() - received.client);
    last.fresh.forEach(function (f) {
      var age = fresh(f[1], numbers.open, config.every, serverNow);
      set(f[0], "textContent", age[0]);
      set(f[0], "className", age[1]);
    });
    var signedOut = Boolean(received.refused);
    var silent = signedOut || Date.now() - Math.max(received.client, received.answered || 0) > 3 * config.refresh;
    var banner = document.getElementById("stale-banner");
    if (signedOut) {
      signInAgain(banner);
    } else {
      if (banner) delete banner.dataset.signin;
      set(banner, "textContent", silent
        ? "No updates since " + last.since + ": the server cannot be reached. Retrying; the page catches up by itself."
        : "");
    }
    set(banner, "hidden", !silent);
    set(document.getElementById("mode-label"), "textContent", signedOut ? "Signed out · not updating since " + last.since
      : silent ? "Not updating since " + last.since
      : numbers.live ? "Following live" : "Custom range · live updates continue");
  }

  // The banner with a link that loads the page again, through the sign-in.
  function signInAgain(banner) {
    if (!banner || banner.dataset.signin === last.since) return;
    banner.dataset.signin = last.since;
    var link = C.el("a", "banner-action", "Sign in again", { href: window.location.href });
    banner.replaceChildren(
      "Your sign-in has ended: no updates since " + last.since + ". The prices are still being stored. ",
      link
    );
  }

  // Called by Dash when an answer brings numbers or new cards.
  function render(numbers, frames, config) {
    C.cards(frames, Boolean(config && config.editable));
    if (numbers && numbers.outage) {
      received.answered = Date.now();
      clock();
    } else if (numbers) {
      if (received.at !== numbers.at) received = { at: numbers.at, client: Date.now() };
      last.numbers = numbers;
      last.config = config;
      write();
    }
    return window.dash_clientside.no_update;
  }
  window.setInterval(clock, 1000);

  function theme(clicks, choice) {
    var triggered = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
    var system = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    if (triggered.indexOf("theme-toggle.n_clicks") >= 0 && clicks) {
      var current = document.documentElement.dataset.theme || choice || system;
      choice = current === "dark" ? "light" : "dark";
    }
    var effective = choice === "dark" || choice === "light" ? choice : system;
    document.documentElement.dataset.theme = effective;
    // A phone (narrow, or touch only) gets the compact chart: no drag, labels inside.
    var compact = window.matchMedia && window.matchMedia("(max-width: 600px), (hover: none) and (pointer: coarse)").matches;
    return [choice || null, effective, effective === "dark" ? "true" : "false", compact ? "compact" : "wide"];
  }

  // The controls as the drawn view has them: the view's and the range's buttons pressed,
  // "Custom" and "Follow live" shown for a custom range, the simulated-market notice.
  function controls(c) {
    if (!c || !c.pressed) return window.dash_clientside.no_update;
    return c.pressed.concat([!c.custom, !c.custom, !c.simulated]);
  }

  // "Undo" after a remove stays a few seconds, then goes (through Dash, which owns it).
  var undoTimer = null;
  function undoLater(hidden, config) {
    window.clearTimeout(undoTimer);
    if (hidden === false) {
      undoTimer = window.setTimeout(function () {
        window.dash_clientside.set_props("watch-undo", { hidden: true });
      }, (config && config.undo) || 10000);
    }
    return window.dash_clientside.no_update;
  }

  // The CSV link asks for what the chart shows: the page's own query (relative: a prefix works).
  function csvHref(search) {
    return "download.csv" + (search || "");
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    stockstreamer: {
      applied: applied, controls: controls, render: render, theme: theme, undoLater: undoLater,
      csvHref: csvHref,
    },
  });
})();
