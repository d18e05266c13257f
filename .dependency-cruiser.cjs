/**
 * Import rules (npm run lint:deps). The framework is what vendors build on: it must not know any
 * concrete driver (drivers.ts, the composition root, registers them), a driver never imports another
 * driver (what two drivers share lives in framework/), and no module may import itself back through others.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle: split the shared part into its own module',
      from: {},
      to: { circular: true },
    },
    {
      name: 'framework-not-to-drivers',
      severity: 'error',
      comment: 'framework/ is the public API and engine; drivers register from drivers.ts',
      from: { path: '^framework/' },
      to: { path: '^(trafficgen|deployments|vnfs)/' },
    },
    {
      name: 'driver-not-to-driver',
      severity: 'error',
      comment:
        'a driver (each generator under trafficgen/, deployments/, vnfs/) imports another: move the shared part into framework/ (e.g. framework/host/pci.ts)',
      from: { path: '^(trafficgen/[^/]+|deployments|vnfs)/' },
      to: { path: '^(trafficgen|deployments|vnfs)/', pathNot: '^$1/' },
    },
    {
      name: 'api-self-contained',
      severity: 'error',
      comment: 'framework/api/ is the versioned surface: it may build on the framework, never on tests or tools',
      from: { path: '^framework/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.d.ts'],
    },
  },
};
