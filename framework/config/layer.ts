import type { JsonObject } from './settings.js';

/** One source of settings (a conf file, the environment, --test-params, a flag) and its values. */
export interface Layer {
  readonly source: string;
  readonly values: JsonObject;
}
