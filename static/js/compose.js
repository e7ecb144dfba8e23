// Replace look-alike characters (curly quotes, long dashes) in the SMS text with the plain
// GSM-7 characters named by the server, then let htmx recount.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-replace-lookalikes]");
  if (!button) return;
  const replacements = JSON.parse(button.dataset.replaceLookalikes);
  const textarea = document.getElementById("id_fallback_text");
  textarea.value = Array.from(textarea.value, (ch) => replacements[ch] ?? ch).join("");
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
  textarea.focus();
});
