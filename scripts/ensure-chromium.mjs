#!/usr/bin/env node
// Makes sure the browser tests' system dependencies exist: Debian Chromium and the Vulkan loader
// (SwiftShader's WebGPU adapter needs libvulkan). A fast no-op when both are present.
//
//   node scripts/ensure-chromium.mjs               (postinstall, test) install them when root, else explain
//   node scripts/ensure-chromium.mjs --check-only  (start) only explain what is missing, never fail
//
// Without root it prints the exact command to run; it exits non-zero only when called from `npm test`
// (the e2e tests cannot run without Chromium), so `npm install` and `npm start` still work.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LIBVULKAN = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];
const PACKAGES = ['chromium', 'libvulkan1'];
const COMMAND = `apt-get update && apt-get install -y ${PACKAGES.join(' ')}`;

const checkOnly = process.argv.includes('--check-only');
const event = process.env.npm_lifecycle_event ?? '';
const log = (msg) => process.stderr.write(`[ensure-chromium] ${msg}\n`);

function missing() {
  const out = [];
  if (!existsSync(CHROMIUM)) out.push(`Chromium (${CHROMIUM})`);
  if (process.platform === 'linux' && !LIBVULKAN.some((p) => existsSync(p))) out.push(`the Vulkan loader (${LIBVULKAN[0]})`);
  return out;
}

let gaps = missing();
if (gaps.length === 0) process.exit(0);

if (process.env.SKIP_ENSURE_CHROMIUM) {
  log(`missing ${gaps.join(' and ')}; SKIP_ENSURE_CHROMIUM is set, so nothing is installed`);
  process.exit(0);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = existsSync('/usr/bin/apt-get');

if (!checkOnly && isRoot && hasApt) {
  log(`missing ${gaps.join(' and ')}; installing: ${COMMAND}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', process.stderr, process.stderr], env });
  const update = run(['update']);
  const install = update.status === 0 ? run(['install', '-y', ...PACKAGES]) : update;
  gaps = missing();
  if (install.status === 0 && gaps.length === 0) {
    log('installed');
    process.exit(0);
  }
  log(`installing failed (exit ${install.status}); still missing ${gaps.join(' and ')}`);
} else {
  const how = hasApt
    ? `run as root:\n\n    ${isRoot ? '' : 'sudo sh -c "'}${COMMAND}${isRoot ? '' : '"'}\n`
    : `install Chromium and the Vulkan loader with your system's package manager, or set CHROMIUM_PATH to a Chromium binary`;
  log(`missing ${gaps.join(' and ')}, needed by the browser tests (test/e2e). To install, ${how}`);
}

// Only the test run depends on the browser; install and start carry on without it.
const fatal = !checkOnly && event === 'test';
if (fatal) log('the e2e tests need it: failing `npm test`');
process.exit(fatal ? 1 : 0);
