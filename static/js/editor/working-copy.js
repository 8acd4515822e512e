// The statement form's safety net (templates/editor/edit.html). Without this
// script the form works as before; with it nothing typed is lost:
// - every few seconds of typing the form is sent to the server as the
//   editor's working copy (not a revision; it also keeps the session alive),
//   and at every change it is kept on this device (local-copies.js);
// - Save keeps the text on the device first. When the session has ended the
//   server sends the save to the login page, which comes back to this form,
//   where the text is put back from the device. When the device is offline,
//   or the last working copy found no server or an ended session, Save first
//   checks the way by sending the working copy: an ended session goes to the
//   login page; without an answer the page stays, says the text is not saved
//   yet, and saves when the connection returns;
// - leaving the page with unsaved changes asks first.
/* global LocalCopies */
"use strict";

(() => {
  const form = document.querySelector("form[data-working-copy]");
  const status = document.getElementById("working-copy-status");
  if (!form || !status) return;
  const offer = document.getElementById("working-copy-offer");
  const key = form.dataset.localKey;
  const AUTOSAVE_DELAY = 3000; // ms of typing between two working copies sent
  const LOCAL_DELAY = 300; // ms: the device's copy follows each pause in typing
  const RETRY_DELAY = 5000; // ms between attempts of a save waiting for the server

  // The messages are in the page (gettext), on the status line's data-msg-* attributes.
  function say(name, values) {
    let text = status.dataset[name] || "";
    for (const [field, value] of Object.entries(values || {})) text = text.replace(`{${field}}`, value);
    status.textContent = text;
  }

  function isField(control) {
    return control.name && control.name !== "csrf_token" && control.type !== "submit" && control.type !== "button";
  }

  function fieldsOf() {
    const fields = {};
    for (const control of form.elements) if (isField(control)) fields[control.name] = control.value;
    return fields;
  }

  function fill(fields) {
    for (const control of form.elements) {
      if (isField(control) && Object.prototype.hasOwnProperty.call(fields, control.name)) {
        control.value = fields[control.name];
      }
    }
  }

  // Equal as text the editor would see; which revision a copy started from is not text.
  function same(a, b) {
    const names = new Set(Object.keys(a).concat(Object.keys(b)));
    names.delete("base_revision");
    for (const name of names) if ((a[name] || "") !== (b[name] || "")) return false;
    return true;
  }

  const loaded = fieldsOf(); // the form as the server sent it
  let dirty = false; // the form differs from what the server sent: leaving asks
  let edits = 0; // counts changes, so an answer about older text does not mark newer text as kept
  let autosaveTimer = null;
  let localTimer = null;
  let retryTimer = null;
  let pendingAction = null; // the button of a save waiting for the server
  let saving = false;
  let leaving = false; // our own navigation (a save, the login page): no question
  let unreachable = false; // the last working copy sent got no answer at all
  let sessionEnded = false; // the last working copy sent met an ended session

  function keepLocally(synced) {
    clearTimeout(localTimer);
    localTimer = null;
    LocalCopies.write(key, { fields: fieldsOf(), synced });
  }

  // Sends the form as the working copy. Resolves to "kept", "session" (it has
  // ended: log in again), "offline" (no answer) or "refused" (any other answer).
  async function sendWorkingCopy() {
    clearTimeout(autosaveTimer);
    autosaveTimer = null;
    const sent = edits;
    const body = new URLSearchParams(fieldsOf());
    body.append("csrf_token", form.elements.namedItem("csrf_token").value);
    let response;
    try {
      response = await fetch(form.dataset.workingCopy, {
        method: "POST",
        body,
        credentials: "same-origin",
        redirect: "manual", // an ended session answers with the login page's address
        headers: { Accept: "application/json" },
      });
    } catch {
      unreachable = true;
      keepLocally(false);
      say("msgDevice");
      return "offline";
    }
    unreachable = false;
    // A redirect (to log in) or a refused CSRF token (the session cookie is gone): the session has ended.
    sessionEnded = response.type === "opaqueredirect" || response.status === 400 || response.status === 401;
    if (sessionEnded) {
      keepLocally(false);
      say("msgSession");
      return "session";
    }
    if (!response.ok) {
      keepLocally(false);
      say("msgRefused", { status: response.status });
      return "refused";
    }
    const answer = await response.json().catch(() => ({}));
    if (edits === sent) keepLocally(true);
    say("msgKept", { time: answer.saved_at || "" });
    return "kept";
  }

  function changed() {
    edits += 1;
    dirty = !same(fieldsOf(), loaded);
    clearTimeout(localTimer);
    localTimer = setTimeout(() => keepLocally(false), LOCAL_DELAY);
    // Every few seconds while typing goes on, not only after it stops.
    if (!autosaveTimer) autosaveTimer = setTimeout(sendWorkingCopy, AUTOSAVE_DELAY);
  }

  function submitNatively(action) {
    const button = document.createElement("input");
    button.type = "hidden";
    button.name = "action";
    button.value = action;
    form.append(button);
    leaving = true;
    HTMLFormElement.prototype.submit.call(form);
  }

  // A save that knows of no connection checks the way first by sending the
  // working copy: the form's own submission would land on the browser's
  // error page.
  async function save(action) {
    if (saving) return;
    saving = true;
    clearTimeout(retryTimer);
    keepLocally(false);
    const outcome = await sendWorkingCopy();
    saving = false;
    if (outcome === "offline") {
      pendingAction = action;
      say("msgNotSaved");
      retryTimer = setTimeout(() => save(action), RETRY_DELAY);
      return;
    }
    if (outcome === "session") {
      leaving = true;
      window.location.assign(form.dataset.login);
      return;
    }
    pendingAction = null;
    submitNatively(action);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    keepLocally(false);
    if (navigator.onLine && !unreachable && !sessionEnded) {
      leaving = true; // the form's own submission goes ahead
      return;
    }
    event.preventDefault();
    save(event.submitter && event.submitter.value ? event.submitter.value : "save");
  });
  window.addEventListener("online", () => {
    if (pendingAction) {
      say("msgRetrying");
      save(pendingAction);
    } else if (dirty) {
      sendWorkingCopy();
    }
  });
  window.addEventListener("pagehide", () => {
    if (localTimer) keepLocally(false);
  });
  window.addEventListener("beforeunload", (event) => {
    if (leaving || !dirty) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers ask only when this is set
  });

  // The server says which copy a save or a discard just ended (data-gone-key).
  if (form.dataset.goneKey) LocalCopies.remove(form.dataset.goneKey);
  // Text kept on this device from an earlier visit: a save that met an ended
  // session or no connection, or a closed tab. Once the server has no working
  // copy left after holding this one, it was saved or discarded.
  const local = LocalCopies.read(key);
  if (local && local.fields) {
    if ((local.synced && form.dataset.serverCopy !== "yes") || same(local.fields, loaded)) {
      LocalCopies.remove(key);
    } else {
      fill(local.fields);
      if (offer) offer.hidden = true; // the server's copy is this one, or older
      dirty = true;
      edits += 1;
      say("msgRestored");
      autosaveTimer = setTimeout(sendWorkingCopy, AUTOSAVE_DELAY);
    }
  }
})();
