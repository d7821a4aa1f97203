// Shared by the hotline's pages: the session token, the JSON API, the login form and the
// live websocket (which reconnects by itself; the server replays the current state).
"use strict";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("hotline_token");

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(body.error || response.statusText), body, { status: response.status });
  }
  return body;
}

function listen(onMessage) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`);
  ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  ws.onclose = () => setTimeout(() => listen(onMessage), 2000);
}

// `enter` shows the page for the logged-in user; it runs after a login, or at once when
// this browser tab still holds a valid session.
function startSession(enter) {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const session = await api("/api/login", { method: "POST",
        body: JSON.stringify({ user: $("user").value, password: $("password").value }) });
      token = session.token;
      sessionStorage.setItem("hotline_token", token);
      await enter();
    } catch (error) { $("login-error").textContent = "登录失败：" + error.message; }
  });
  if (token) enter().catch(() => { token = null; sessionStorage.removeItem("hotline_token"); });
}
