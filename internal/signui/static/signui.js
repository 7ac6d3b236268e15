// Drawn signatures: a pointer-driven pad (mouse, pen, touch), and for keyboard users a button that
// writes the typed name into the pad. On submit the drawing, cropped to what was drawn, goes into
// the form as a PNG data URL; the server checks its size.
"use strict";
document.querySelectorAll("form.sign-form").forEach(function (form) {
  var pad = form.querySelector("canvas.pad");
  if (!pad) return;
  var ctx = pad.getContext("2d");
  var problem = form.querySelector(".form-error"); // an inline alert: a dialog would block the page
  function say(msg) { problem.textContent = msg; problem.hidden = !msg; }
  var drawn = false, last = null;
  var box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#0f172a";

  function point(e) {
    var r = pad.getBoundingClientRect();
    return { x: (e.clientX - r.left) * pad.width / r.width, y: (e.clientY - r.top) * pad.height / r.height };
  }
  function grow(p) {
    box.x0 = Math.min(box.x0, p.x); box.y0 = Math.min(box.y0, p.y);
    box.x1 = Math.max(box.x1, p.x); box.y1 = Math.max(box.y1, p.y);
  }
  pad.addEventListener("pointerdown", function (e) {
    pad.setPointerCapture(e.pointerId);
    last = point(e); grow(last); say("");
    ctx.beginPath(); ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fillStyle = ctx.strokeStyle; ctx.fill();
    drawn = true; e.preventDefault();
  });
  pad.addEventListener("pointermove", function (e) {
    if (!last) return;
    var p = point(e);
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
    grow(p); last = p; e.preventDefault();
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (t) { pad.addEventListener(t, function () { last = null; }); });

  function clear() {
    ctx.clearRect(0, 0, pad.width, pad.height);
    drawn = false; box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  }
  form.querySelector("button.clear").addEventListener("click", clear);

  var write = form.querySelector("button.write-name");
  write.addEventListener("click", function () {
    var input = form.querySelector("input[name=name]"), name = input.value.trim();
    if (!name) { say(write.dataset.nameMissing); input.focus(); return; }
    clear(); say("");
    var size = 72;
    do {
      ctx.font = "italic " + size + "px cursive, serif";
      size -= 4;
    } while (size > 24 && ctx.measureText(name).width > pad.width - 40);
    var metrics = ctx.measureText(name), x = 20, y = pad.height / 2 + size / 3;
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillText(name, x, y, pad.width - 40);
    grow({ x: x, y: y - metrics.actualBoundingBoxAscent });
    grow({ x: x + Math.min(metrics.width, pad.width - 40), y: y + metrics.actualBoundingBoxDescent });
    drawn = true;
  });

  form.addEventListener("submit", function (e) {
    // A login button of this form posts the document form to the login start: no drawing. The
    // button of an allOf provider with a login (data-allof-login) goes to the login start too, but
    // with the drawing, which the server keeps for the callback: it does not leave without one.
    if (e.submitter && e.submitter.hasAttribute("data-form-login") && !e.submitter.hasAttribute("data-allof-login")) return;
    if (!drawn) {
      e.preventDefault();
      say(form.dataset.missing);
      return;
    }
    var m = ctx.lineWidth + 2;
    var x = Math.max(0, Math.floor(box.x0 - m)), y = Math.max(0, Math.floor(box.y0 - m));
    var w = Math.min(pad.width, Math.ceil(box.x1 + m)) - x, h = Math.min(pad.height, Math.ceil(box.y1 + m)) - y;
    var out = document.createElement("canvas");
    out.width = w; out.height = h;
    out.getContext("2d").drawImage(pad, x, y, w, h, 0, 0, w, h);
    form.querySelector("input[name=image]").value = out.toDataURL("image/png");
  });
});

// A login button skips the browser's checks of the whole form (formnovalidate: the drawn signature's
// name is not its business) but not of the document's fields: a required one left empty is shown
// before leaving for the identity provider, as the server would refuse it on return anyway.
document.querySelectorAll("form").forEach(function (form) {
  form.addEventListener("submit", function (e) {
    if (!e.submitter || !e.submitter.hasAttribute("data-form-login")) return;
    var fields = form.querySelectorAll("fieldset.doc-form input, fieldset.doc-form select, fieldset.doc-form textarea");
    for (var i = 0; i < fields.length; i++) {
      if (!fields[i].checkValidity()) {
        e.preventDefault();
        fields[i].reportValidity();
        return;
      }
    }
  });
});

// A form is sent once: a second click while the server seals would only be refused.
document.querySelectorAll("form").forEach(function (form) {
  form.addEventListener("submit", function (e) {
    if (e.defaultPrevented) return;
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
  });
});
