// vsperf-plugin-template: what `vsperf --plugin <this package>` loads. register() declares the plugin's
// settings (validated, listed by --list-settings, settable in conf files and --test-params) and its
// traffic generator.
import { TemplateGen } from './template-gen.js';

export function register(registry) {
  registry.addSettings({
    properties: {
      TRAFFICGEN_TEMPLATE_MAX_FPS: {
        description: 'TemplateGen: highest rate it tries to send, frames/s per direction (methodologies cap their rates here)',
        type: 'integer',
        minimum: 1,
        default: 20000,
      },
      TRAFFICGEN_TEMPLATE_DRAIN_S: {
        description: 'TemplateGen: seconds to wait after sending for frames still in flight',
        type: 'number',
        minimum: 0,
        default: 0.5,
      },
    },
  });
  registry.add({
    kind: 'trafficgen',
    name: 'TemplateGen',
    summary: 'Template plugin generator: raw frames through socat in each port namespace (a starting point for vendors)',
    create: async (ctx) =>
      new TemplateGen(ctx.host, {
        maxFps: ctx.settings.number('TRAFFICGEN_TEMPLATE_MAX_FPS'),
        drainS: ctx.settings.number('TRAFFICGEN_TEMPLATE_DRAIN_S'),
      }),
  });
}

export { TemplateGen };
