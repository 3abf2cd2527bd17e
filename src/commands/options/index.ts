export { DEFAULTS } from './defaults.js';
export * from './groups.js';
