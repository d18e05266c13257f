/** Settings access: a driver reads its keys from `ctx.settings` (frozen, each key knows its source). */
export { Settings, type Json, type JsonObject } from '../config/settings.js';
