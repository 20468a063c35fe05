'use strict';
// Loads the native addon (weir.node, built from src/ by scripts/build.js) and says how to build
// it when it is missing. Everything else goes through the classes in this directory.

const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'weir.node');

function load() {
  try {
    return require(file);
  } catch (cause) {
    const why = fs.existsSync(file) ? `could not be loaded (${cause.message})` : 'has not been built';
    throw new Error(
      `weir-client: the native addon ${file} ${why}. Build it with \`npm run build\` in ` +
        `${path.dirname(file)} (needs Rust and cargo), or run \`npm rebuild weir-client\` ` +
        'if npm skipped its install script.',
      { cause },
    );
  }
}

module.exports = load();
