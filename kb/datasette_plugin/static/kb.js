// Copy buttons: <button data-kb-copy="text">. The text sits in an attribute,
// escaped by the template, so no page data ever passes through innerHTML.
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Older browsers, or plain http on a non-loopback host.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy refused");
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-kb-copy]");
  if (!button) return;
  const label = button.dataset.kbLabel || button.textContent;
  button.dataset.kbLabel = label;
  try {
    await copyText(button.getAttribute("data-kb-copy"));
    button.textContent = "Copied";
    button.classList.add("kb-copied");
  } catch (err) {
    button.textContent = "Copy failed: select the text instead";
  }
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove("kb-copied");
  }, 1800);
});
