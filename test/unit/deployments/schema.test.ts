import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { PROJECT_ROOT } from '../../../framework/config/load.js';

describe('deployments: conf/02_vswitch.json against conf/schema/vswitch.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(PROJECT_ROOT, 'conf/schema/vswitch.schema.json'), 'utf8'));
  const conf = JSON.parse(readFileSync(join(PROJECT_ROOT, 'conf/02_vswitch.json'), 'utf8'));

  it('every key is described, has a default equal to the conf value, and validates', () => {
    const props = schema.properties as Record<string, { description?: string; default?: unknown }>;
    expect(Object.keys(conf).sort()).to.deep.equal(Object.keys(props).sort());
    for (const [k, p] of Object.entries(props)) {
      expect(p.description, k).to.be.a('string').with.length.greaterThan(10);
      expect(p.default, k).to.deep.equal(conf[k]);
    }
    const ajv = new Ajv.default({ strict: false });
    const validate = ajv.compile({ ...schema, additionalProperties: false });
    expect(validate(conf), JSON.stringify(validate.errors)).to.equal(true);
    expect(validate({ ...conf, SANDBOX_PORT_IO: 'dpdk' })).to.equal(false);
  });
});
