// The statement form as typed, kept in this browser's localStorage: what the
// editor wrote survives a lost connection, an ended session or a closed tab
// even when the server could not be reached. One entry per editor and
// statement (the form's data-local-key); the editor script drops an entry
// once the server confirms the text was saved or discarded.
/* exported LocalCopies */
"use strict";

const LocalCopies = (() => {
  const PREFIX = "bulletin-editor:working-copy:";

  // Each returns quietly when storage is refused (private mode, full): the
  // server's working copy still keeps the text, and the console says why.
  function read(key) {
    try {
      const text = localStorage.getItem(PREFIX + key);
      return text ? JSON.parse(text) : null;
    } catch (error) {
      console.warn("[bulletin] the text kept on this device could not be read", error);
      return null;
    }
  }

  function write(key, copy) {
    try {
      localStorage.setItem(PREFIX + key, JSON.stringify(copy));
      return true;
    } catch (error) {
      console.warn("[bulletin] the text could not be kept on this device", error);
      return false;
    }
  }

  function remove(key) {
    try {
      localStorage.removeItem(PREFIX + key);
    } catch (error) {
      console.warn("[bulletin] the text kept on this device could not be removed", error);
    }
  }

  return { read, write, remove };
})();
