// Installs what the VS Code tests need, once, into ~/.cache/transfer-lab (idempotent):
// code-server 4.100.3 (VS Code 1.100.3 as a server + web workbench, from npm, because
// desktop VS Code cannot be downloaded offline) and a system Chromium for Playwright.
// The recipe follows code-server's own postinstall, minus its downloads (ripgrep comes from
// Debian instead of GitHub).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CODE_SERVER_VERSION, codeServerDir, codeServerEntry as codeServerBin, findChromium } from '../test/support/testEnv.mjs';

const marker = path.join(codeServerDir, '.transfer-lab-ready');

const log = (m) => console.log(`[setup:test-env] ${m}`);
const started = Date.now();

function run(cmd, args, cwd, extraEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, npm_config_unsafe_perm: 'true', npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false', ...extraEnv },
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}:\n${tail}`);
  }
  return r.stdout;
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function aptInstall(packages) {
  log(`installing Debian packages: ${packages.join(' ')}`);
  run('apt-get', ['update', '-qq'], '/');
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], '/', { DEBIAN_FRONTEND: 'noninteractive' });
}

function ensureSystemPackages() {
  const missing = [];
  if (!findChromium()) missing.push('chromium');
  if (!which('rg')) missing.push('ripgrep');
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h') && !fs.existsSync('/usr/include/gssapi.h')) missing.push('libkrb5-dev');
  if (missing.length === 0) return;
  const root = process.getuid?.() === 0;
  if (root && process.env.CI === 'true') return aptInstall(missing);
  throw new Error(`missing system packages: ${missing.join(', ')}. Install them (Debian/Ubuntu: sudo apt-get install ${missing.join(' ')}), or set CHROMIUM_PATH to a Chromium binary.`);
}

function installCodeServer() {
  fs.rmSync(codeServerDir, { recursive: true, force: true });
  fs.mkdirSync(codeServerDir, { recursive: true });
  fs.writeFileSync(path.join(codeServerDir, 'package.json'), JSON.stringify({ name: 'transfer-lab-code-server', private: true }));
  log(`npm install code-server@${CODE_SERVER_VERSION} (scripts off: its postinstall downloads ripgrep)`);
  run('npm', ['install', '--ignore-scripts', '--no-save', `code-server@${CODE_SERVER_VERSION}`], codeServerDir);
  const pkg = path.join(codeServerDir, 'node_modules', 'code-server');
  const vscodeDir = path.join(pkg, 'lib', 'vscode');
  log('installing VS Code server dependencies');
  run('npm', ['install', '--omit=dev', '--ignore-scripts'], vscodeDir);
  const rgTarget = path.join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  fs.mkdirSync(rgTarget, { recursive: true });
  fs.copyFileSync(which('rg'), path.join(rgTarget, 'rg'));
  fs.chmodSync(path.join(rgTarget, 'rg'), 0o755);
  log('building VS Code server native modules');
  run('npm', ['rebuild'], vscodeDir);
  const asar = path.join(vscodeDir, 'node_modules.asar');
  if (!fs.existsSync(asar)) fs.symlinkSync('node_modules', asar);
  log('installing built-in extensions dependencies');
  run('npm', ['install', '--omit=dev'], path.join(vscodeDir, 'extensions'));
  // argon2 is hoisted next to code-server; its prebuilt download fails offline, so build it.
  log('building code-server native modules (argon2)');
  run('npm', ['rebuild', '--build-from-source'], codeServerDir);
}

function smokeCheck() {
  const out = execFileSync(process.execPath, [codeServerBin, '--version'], { encoding: 'utf8', timeout: 60_000 });
  if (!out.includes(CODE_SERVER_VERSION)) throw new Error(`code-server --version printed: ${out}`);
  return out.split('\n')[0];
}

try {
  ensureSystemPackages();
  if (fs.existsSync(marker) && fs.existsSync(codeServerBin)) {
    log(`code-server ${CODE_SERVER_VERSION} ready (cached in ${codeServerDir}); chromium ${findChromium()}`);
  } else {
    installCodeServer();
    const version = smokeCheck();
    fs.writeFileSync(marker, `${version}\n`);
    log(`code-server ${version} installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
} catch (e) {
  console.error(`[setup:test-env] FAILED: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
