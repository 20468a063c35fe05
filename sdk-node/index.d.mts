// ESM type declarations: the same as the CommonJS ones (index.mjs re-exports index.js).
export * from './index.js';
import * as weir from './index.js';
export default weir;
