#!/usr/bin/python3
"""Dev tool (never run by vsperf): convert VSPERF's conf/integration/*.conf into the JSON layers
checked in under conf/integration/. VSPERF's conf files are Python; this runs them once, in name
order and one shared namespace (later files extend INTEGRATION_TESTS and use earlier macros), and
writes each file's own settings. Helper lists (STEP_* macros) are expanded into the testcases and
not written. Usage: vsperf-integration-to-json.py VSPERF_CONF_INTEGRATION_DIR OUT_DIR"""
import json
import os
import sys

src, out = sys.argv[1], sys.argv[2]
import types
# 01b does `from conf import settings` to build a log path at load time: a stand-in whose values are
# VSPERF `$SETTING` references, expanded by vsperf-ts when the step runs.
_conf = types.ModuleType('conf')
_conf.settings = types.SimpleNamespace(getValue=lambda k: {'RESULTS_PATH': '$RESULTS_PATH', 'LOG_FILE_VSWITCHD': 'vswitchd.log', 'LOG_TIMESTAMP': 'run'}[k])
sys.modules['conf'] = _conf
ns = {'os': os, 'ROOT_DIR': '/opt/vsperf'}
for name in sorted(f for f in os.listdir(src) if f.endswith('.conf')):
    before = {k: (len(v) if k == 'INTEGRATION_TESTS' else None) for k, v in ns.items() if k.isupper()}
    with open(os.path.join(src, name)) as f:
        code = f.read()
    exec(compile(code, name, 'exec'), ns)  # noqa: S102 - dev-time conversion of trusted upstream files
    values = {}
    for k, v in ns.items():
        if not k.isupper() or k.startswith('STEP_'):
            continue
        if k == 'INTEGRATION_TESTS':
            new = v[before.get(k) or 0:]
            if new:
                values[k] = new
        elif k not in before:
            values[k] = v
    with open(os.path.join(out, name[:-len('.conf')] + '.json'), 'w') as f:
        json.dump(values, f, indent=1)
        f.write('\n')
    print(name, sorted(values), len(values.get('INTEGRATION_TESTS', [])))
