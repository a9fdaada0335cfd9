// Keyboard-first verification, as classic verification stations work:
//   Enter        accept the current doubtful field (ticks its "Vérifié") and go to the next one
//                (after the last: the approve button)
//   Shift+Enter  go back to the previous doubtful field
//   1..9         toggle the n-th tick box of the current field (when it has tick boxes)
(function () {
  "use strict";
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".field-block[data-doubtful]"));
  var approve = document.getElementById("approve");
  if (!approve) { return; }

  function blockOf(el) { return el && el.closest ? el.closest(".field-block") : null; }
  // Agreements and signatures are confirmed from the image, never ticked by hand: their boxes are
  // disabled, so the focus goes to their « Confirmé d'après l'image » box instead.
  function firstInput(block) {
    return block.querySelector("input.value:not([disabled]), input[type=checkbox]:not(.verify):not([disabled]), input.verify");
  }
  function markVerified(block) {
    var box = block && block.querySelector("input.verify");
    if (box) { box.checked = true; }
  }
  function focusBlock(block) {
    document.querySelectorAll(".field-block.current").forEach(function (b) { b.classList.remove("current"); });
    if (!block) { approve.focus(); return; }
    block.classList.add("current");
    var input = firstInput(block);
    if (input) { input.focus(); if (input.select) { input.select(); } }
    block.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("focusin", function (e) {
    var block = blockOf(e.target);
    document.querySelectorAll(".field-block.current").forEach(function (b) { if (b !== block) { b.classList.remove("current"); } });
    if (block) { block.classList.add("current"); }
  });

  document.getElementById("approve-form").addEventListener("keydown", function (e) {
    var block = blockOf(e.target);
    if (!block) { return; }  // buttons keep their native Enter
    var all = Array.prototype.slice.call(document.querySelectorAll("#approve-form .field-block"));
    var list = block.hasAttribute("data-doubtful") ? blocks : all;
    var i = list.indexOf(block);
    if (e.key === "Enter" && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      if (e.shiftKey) { focusBlock(list[Math.max(0, i - 1)]); return; }
      block.classList.add("accepted");
      markVerified(block);
      focusBlock(i + 1 < list.length ? list[i + 1] : null);
      return;
    }
    if (/^[1-9]$/.test(e.key) && e.target.type === "checkbox" && !e.target.classList.contains("verify")) {
      var boxes = block.querySelectorAll("input[type=checkbox]:not(.verify):not([disabled])");
      var n = parseInt(e.key, 10) - 1;
      if (n < boxes.length) {
        e.preventDefault(); boxes[n].checked = !boxes[n].checked; boxes[n].focus(); markVerified(block);
      }
    }
  });

  // Correcting a doubtful field is verifying it.
  document.getElementById("approve-form").addEventListener("input", function (e) {
    if (e.target.classList && !e.target.classList.contains("verify")) { markVerified(blockOf(e.target)); }
  });

  focusBlock(blocks.length ? blocks[0] : null);
})();
