/** Moved to framework/api/driver.ts (public API). This re-export goes away once every import uses the new path. */
export * from '../api/driver.js';
