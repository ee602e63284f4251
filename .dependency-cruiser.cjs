// Import-cycle rules for src/ (run by `npm run check:cycles`, which `npm run lint` calls; see
// .ci/check-cycles.mjs, which adds the rule dependency-cruiser cannot express: no cycle between
// the top-level folders of src/). Type-only imports count (tsPreCompilationDeps), because a
// type cycle between folders is the same knot as a value cycle.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      comment:
        'No cycle between files of src/, except among the type-only files of src/plugin-api.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, via: { pathNot: '^src/plugin-api/' } },
    },
    {
      name: 'no-runtime-cycle-in-plugin-api',
      comment: 'Inside src/plugin-api a cycle is allowed only if every import on it is type-only.',
      severity: 'error',
      from: { path: '^src/plugin-api/' },
      to: { circular: true, via: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
