import { EventEmitter } from 'node:events';
import type { TrialRequest, TrialOutcome, ResultRow } from '../methodology/types.js';
import type { LiveCounters } from '../api/trafficgen.js';

/** Runner events (`noun:verb`). Progress display and result writers only listen to these. */
export interface RunEventMap {
  'run:start': [{ testcases: string[]; resultsDir: string; estimateS?: number }];
  'testcase:start': [{ index: number; name: string; deployment: string; estimateS?: number }];
  'testcase:phase': [{ name: string; phase: string }];
  'trial:start': [{ testcase: string; frameSize: number; request: TrialRequest; index: number }];
  'trial:progress': [{ testcase: string; counters: LiveCounters; request: TrialRequest }];
  'trial:end': [{ testcase: string; frameSize: number; outcome: TrialOutcome; index: number }];
  'testcase:end': [{ index: number; name: string; status: 'passed' | 'failed'; rows: ResultRow[]; error?: { code: string; message: string }; wallS: number }];
  'run:end': [{ passed: number; failed: number; resultsDir: string }];
}

export class RunEvents extends EventEmitter<RunEventMap> {}
