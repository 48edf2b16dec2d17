// Progressive: "Copy" buttons appear only where script runs and the clipboard is there. The
// pages work without it (the address can be selected and copied by hand).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    const said = button.parentElement.querySelector(".copied");
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(field.value);
      if (said) said.hidden = false;
    });
  }
});
