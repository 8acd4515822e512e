// ESLint for the scripts readers run: the page script (static/js/) and the
// service worker (service_worker/). Neither has a bundler or modules: the
// server concatenates plain scripts (bulletin/assets/bundles.py for the page,
// bulletin/pwa/worker.py for /sw.js), so the files of one script share its
// top-level names. Names a folder's files get from elsewhere are declared
// here, per folder; names passed between the files of one folder are listed
// in each file's own `/* global */` and `/* exported */` comments.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";

export default defineConfig([
  js.configs.recommended,
  {
    files: ["static/js/**/*.js", "service_worker/**/*.js"],
    languageOptions: {
      // Plain scripts, and no syntax newer than the scripts use today: nothing
      // translates it for the older phones' browsers that readers have.
      sourceType: "script",
      ecmaVersion: 2019,
    },
  },
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      globals: {
        ...globals.browser,
        UI_STRINGS: "readonly", // static/gen/src/ui-strings.<lang>.js, written by `prepare`, starts each language's bundle
        Bulletin: "readonly", // static/js/shared.js: the namespace each file adds to
        OfflineStore: "readonly", // static/js/offline-store.js
      },
    },
  },
  {
    // The editor's own script (the bundle editor_js): none of the page script's names.
    files: ["static/js/editor/**/*.js"],
    languageOptions: { globals: { UI_STRINGS: "off", Bulletin: "off", OfflineStore: "off" } },
  },
  {
    // The viewer inside a bundle file (bulletin/site/bundle_file.py): alone in its page, none of the page script's names.
    files: ["static/js/bundle/**/*.js"],
    languageOptions: { globals: { UI_STRINGS: "off", Bulletin: "off", OfflineStore: "off" } },
  },
  {
    files: ["static/js/shared.js"],
    languageOptions: { globals: { Bulletin: "off" } }, // defined here
  },
  {
    files: ["static/js/offline-store.js"],
    languageOptions: { globals: { OfflineStore: "off" } }, // defined here
  },
  {
    files: ["service_worker/**/*.js"],
    languageOptions: {
      globals: {
        ...globals.serviceworker,
        SETTINGS: "readonly", // injected by the server at the top of /sw.js
        Bulletin: "readonly", // static/js/shared.js, prepended to /sw.js (the kill switch's too)
        OfflineStore: "readonly", // static/js/offline-store.js, prepended to /sw.js
      },
    },
  },
  {
    // What the worker imports (the bundle `worker`): it runs in the worker's scope, beside /sw.js.
    files: ["static/js/worker/**/*.js"],
    languageOptions: {
      globals: {
        ...globals.serviceworker,
        SETTINGS: "readonly", // injected by the server at the top of /sw.js
        BulletinVerify: "readonly", // static/js/verify.js, first in the bundle
      },
    },
  },
  {
    // Strategies get what they need as arguments, never from the worker's state.
    files: ["service_worker/strategies.js"],
    languageOptions: { globals: { SETTINGS: "off", OfflineStore: "off" } },
  },
  {
    files: ["service_worker/kill.js"],
    languageOptions: { globals: { SETTINGS: "off", OfflineStore: "off" } }, // served with shared.js only
  },
]);
