/** What step objects (vswitch, vnfN, trafficgen, …) look like to the step executor. */
import type { PyValue } from './pyvalue.js';

export interface StepTarget {
  /** Run VSPERF method `method` with already expanded parameters; the result is the step's result. */
  call(method: string, args: readonly PyValue[]): Promise<PyValue>;
  /**
   * VSPERF's `validate_<method>(result, *params)`: checks the effect independently (the switch's own
   * view, a re-read file…). Returns false or throws when the effect is missing. A method without a
   * validation makes a checked step fail, as in VSPERF.
   */
  validate?(method: string, result: PyValue, args: readonly PyValue[]): Promise<boolean>;
  /** Whether validate() knows `method`. */
  canValidate?(method: string): boolean;
}

/** Where the executor finds step objects; a string answer says why the object is not available here. */
export interface StepObjects {
  target(object: string): StepTarget | string;
}
