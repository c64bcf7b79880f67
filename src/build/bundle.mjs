// The command users run, as one ES module: `node src/build/bundle.mjs` (after `tsc`, from `npm run build`/`prepare`/
// `pretest`) bundles src/bin.ts with esbuild into dist/src/bin.js, over tsc's unbundled entry of the same name (and the
// API worker's entry, src/probes/iot-api/api-worker.ts, likewise), so
// `iot-doctor`, `npm run demo`, `npm run bench` and every test that spawns dist/src/bin.js run the bundle. Start-up
// then opens a few files instead of ~165 ES modules before the first SYN (issue 16).
//
// What stays lazy: every `await import()` of our own code (lab, serve, explain, report formats, the catalogue, the IoT
// client of the AWS SDK) becomes a chunk in dist/src/chunks/, loaded only when that code runs. Packages stay outside the
// bundle and load from node_modules as before (the STS, IAM and Logs clients, node-forge, ajv, cli-table3, ws, socks,
// the SigV4 signer), except the MQTT codec that every check needs (mqtt-packet is bundled with bl's plain BufferList in
// place of bl's stream wrapper, which would pull readable-stream, ~40% of the module time, for a stream interface the
// parser never uses) and the IoT client (tree-shaken to the commands the cloud checks send: src/probes/iot-api/iot-sdk.ts).
//
// A `npx tsc -p tsconfig.json` alone rewrites dist/src/bin.js as the unbundled entry: slower to start, same code, never
// stale. Exit 1 with esbuild's messages when the bundle cannot be built.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'dist/src');
const require = createRequire(join(ROOT, 'package.json'));

/**
 * Packages compiled into the bundle: the MQTT codec, and the IoT client of the AWS SDK (only the commands
 * src/probes/iot-api/iot-sdk.ts names: a tree-shaken client loads in the API worker in about a third of the time of
 * the whole package). What a compiled-in package imports is compiled in too. Everything else stays in node_modules.
 */
const BUNDLED = new Set(['mqtt-packet', '@aws-sdk/client-iot']);

/** Package name of a bare import specifier (`@scope/name/sub` → `@scope/name`); undefined for a path or a builtin. */
function packageName(spec) {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const externalPackages = {
  name: 'external-packages',
  setup(b) {
    // bl's index wraps BufferList in a readable-stream Duplex; mqtt-packet's parser only calls BufferList methods.
    b.onResolve({ filter: /^bl$/ }, () => ({ path: require.resolve('bl/BufferList.js') }));
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = packageName(args.path);
      if (name === undefined || BUNDLED.has(name) || args.importer.includes('/node_modules/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  process.stderr.write(
    'src/build/bundle.mjs: esbuild is not installed (a devDependency since the bundle): run npm ci\n',
  );
  process.exit(1);
}
rmSync(join(OUT, 'chunks'), { recursive: true, force: true });
try {
  await build({
    absWorkingDir: ROOT,
    // The API worker (src/probes/iot-api/worker-channel.ts finds it at tsc's place, which this overwrites too).
    entryPoints: { bin: 'src/bin.ts', 'probes/iot-api/api-worker': 'src/probes/iot-api/api-worker.ts' },
    outdir: OUT,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The AWS SDK's ES modules (dist-es) can be tree-shaken; its CommonJS build is one file with every command.
    mainFields: ['module', 'main'],
    sourcemap: true,
    allowOverwrite: true,
    logLevel: 'warning',
    plugins: [externalPackages],
    // Bundled CommonJS (the MQTT codec) calls require() for Node's built-ins: give every chunk a real one.
    banner: {
      js:
        "import { createRequire as __iotDoctorCreateRequire } from 'node:module';\n" +
        'const require = __iotDoctorCreateRequire(import.meta.url);',
    },
  });
} catch {
  process.exit(1);
}
