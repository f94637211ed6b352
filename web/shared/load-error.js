// A module whose import fails (e.g. /dist not built yet) never runs, so it
// cannot report its own failure. This classic script, loaded after the page's
// module (<script type="module" id="appScript">), notices and says so in the
// page's #loadError banner and #status. Its own tag names, in
// data-ready-flag, the window property the module sets once it has started.
(function () {
  var readyFlag = document.currentScript.dataset.readyFlag;
  var app = document.getElementById('appScript');
  var reason = '';
  window.addEventListener('error', function (e) {
    if (!reason && e && e.message) reason = e.message;
  });
  app.addEventListener('error', function () {
    reason = reason || 'could not load ' + app.getAttribute('src') + ' or /dist/peercompute.js (is the library built?)';
  });
  window.addEventListener('load', function () {
    if (window[readyFlag]) return;
    var text = 'PeerCompute failed to load: ' + (reason || 'unknown error') +
      '. Build the library so that /dist/peercompute.js exists, then reload.';
    var banner = document.getElementById('loadError');
    banner.textContent = text;
    banner.hidden = false;
    var status = document.getElementById('status');
    status.textContent = 'Error: library failed to load';
    status.className = 'status status-error';
  });
})();
