import { expect } from 'chai';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

function root(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'conf', 'schema'))) d = dirname(d);
  return d;
}
const read = (p: string) => JSON.parse(readFileSync(join(root(), p), 'utf8')) as Record<string, unknown>;

describe('conf/schema/methodology.schema.json', () => {
  const schema = read('conf/schema/methodology.schema.json') as { properties: Record<string, { description?: string }> };
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  const validate = new Ajv({ strict: false, allErrors: true }).compile({ type: 'object', properties: schema.properties, additionalProperties: false });

  it('describes every key of 03_traffic.json, 03_traffic_methodology.json and 03_traffic_simulated.json', () => {
    for (const f of ['conf/03_traffic.json', 'conf/03_traffic_methodology.json', 'conf/03_traffic_simulated.json']) {
      const values = read(f);
      for (const k of Object.keys(values)) {
        expect(schema.properties, `${k} of ${f}`).to.have.property(k);
        expect(schema.properties[k]!.description, k).to.be.a('string').and.not.equal('');
      }
      expect(validate(values), `${f}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    }
  });

  it('rejects bad methodology values', () => {
    expect(validate({ TRAFFICGEN_NDR_PDR: { preset: 'fast' } })).to.equal(false);
    expect(validate({ TRAFFICGEN_NDR_PDR: { goals: [{ loss_ratio: 2 }] } })).to.equal(false);
    expect(validate({ TRAFFICGEN_TREX_RFC2544_TPUT_THRESHOLD: 0 })).to.equal(false);
    expect(validate({ SIMULATED_DUT: { curve: 'wavy' } })).to.equal(false);
    expect(validate({ TRAFFICGEN_LATENCY_LOAD_PCT: [50, 90] })).to.equal(true);
  });
});
