export { DEFAULTS } from './defaults.js';
export * from './groups.js';
export { withSourceEndpoint, withTargetEndpoint, type EndpointFlagArgs } from './endpoint.js';
export { withVerbosity, type VerbosityArgs } from './verbosity.js';
