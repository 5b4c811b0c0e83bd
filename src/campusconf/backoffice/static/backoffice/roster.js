// Roster upload: "Allow a mass change" only means something for a full roster, so it
// shows only while "full" is ticked, and is unticked when "full" is.
(function () {
  var script = document.currentScript;
  document.addEventListener("DOMContentLoaded", function () {
    var full = document.getElementById(script.dataset.full);
    var mass = document.getElementById("mass-change");
    if (!full || !mass) return;
    function sync() {
      mass.hidden = !full.checked;
      if (!full.checked) mass.querySelector("input").checked = false;
    }
    full.addEventListener("change", sync);
    sync();
  });
})();
