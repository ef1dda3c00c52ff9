export type * from './clock.js';
export { systemClock } from './clock.js';
export type * from './logger.js';
export { silentLogger } from './logger.js';
export * from './object-store.js';
export * from './preview-renderer.js';
export type * from './preview-scheduler.js';
export * from './repositories.js';
export type * from './secret-store.js';
