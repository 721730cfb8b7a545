// Login: the pasted key is sent once; the server answers with a session
// cookie (HttpOnly) and the page moves to the console.
"use strict";
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const err = document.getElementById("login-error");
  err.textContent = "";
  const key = document.getElementById("key").value;
  const resp = await fetch("/web/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ key: key }),
    credentials: "same-origin",
  });
  if (resp.ok) {
    window.location.assign("/web/");
    return;
  }
  let detail = resp.statusText;
  try { detail = (await resp.json()).detail || detail; } catch (e) { /* not JSON */ }
  err.textContent = "Login refused: " + detail;
});
