// Live figures: one EventSource per page; the server reads the store once per interval for all browsers.
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";
  var status = document.getElementById("live-status");
  if (!window.EventSource || !document.querySelector("[data-live]")) { return; }
  var format = new Intl.NumberFormat("en-US");
  var source = new EventSource(root + "/events");
  source.addEventListener("counts", function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (data.stale) {
      if (status) { status.className = "live stale"; status.title = "Live updates paused: " + (data.error || "the store is unreachable"); }
      return;
    }
    if (status) { status.className = "live on"; status.title = "Live, as of " + data.at; }
    var nodes = document.querySelectorAll("[data-live]");
    for (var i = 0; i < nodes.length; i++) {
      var key = nodes[i].getAttribute("data-live");
      if (Object.prototype.hasOwnProperty.call(data.counts, key)) {
        var text = format.format(data.counts[key]);
        if (nodes[i].textContent !== text) { nodes[i].textContent = text; }
      }
    }
  });
  source.onerror = function () { if (status) { status.className = "live stale"; status.title = "Reconnecting…"; } };
  window.addEventListener("pagehide", function () { source.close(); });
})();
