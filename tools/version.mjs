#!/usr/bin/env node
// One version for every @lth package, and the publish fields they share.
//
//   node tools/version.mjs           check (run by `npm test`): every package is in step with the
//                                    root package.json and ready to pack; exit 1 listing what is not
//   node tools/version.mjs 0.2.0     set that version on the root, every package and every @lth/*
//                                    dependency, then refresh package-lock.json
//
// The root package.json is the source of the shared fields: version, license, repository (url),
// engines. Each package adds its own name, description and `files` (PACKAGE_FILES plus extras).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

/** What every package ships: built JS and declarations, the TypeScript sources they map to; no tests. */
export const PACKAGE_FILES = ['dist', '!dist/.tsbuildinfo', '!dist/**/*.test.*', '!dist/**/__tests__', 'src', '!src/**/*.test.ts', '!src/**/__tests__'];
const DEP_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file, json) => writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);

export function workspacePackages(root) {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, 'package.json')))
    .sort()
    .map((d) => ({ dir: d, file: join(dir, d, 'package.json'), json: readJson(join(dir, d, 'package.json')) }));
}

/** Everything that keeps the packages from being packed and installed together, one line each. */
export function problems(root) {
  const top = readJson(join(root, 'package.json'));
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  const out = [];
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(top.version ?? '')) out.push(`package.json: version '${top.version}' is not x.y.z`);
  const pkgs = workspacePackages(root);
  const privates = new Set(pkgs.map((p) => p.json.private === true));
  if (privates.size > 1)
    out.push(
      `packages disagree on "private": decide once for all (${pkgs
        .filter((p) => p.json.private === true)
        .map((p) => p.dir)
        .join(', ')} are private)`,
    );
  for (const { dir, json } of pkgs) {
    const at = `packages/${dir}/package.json`;
    if (json.name !== `@lth/${dir}`) out.push(`${at}: name is '${json.name}', expected '@lth/${dir}'`);
    if (json.version !== top.version) out.push(`${at}: version ${json.version}, the root says ${top.version} (node tools/version.mjs ${top.version})`);
    for (const field of DEP_FIELDS) {
      for (const [dep, range] of Object.entries(json[field] ?? {})) {
        if (dep.startsWith('@lth/') && range !== top.version) out.push(`${at}: ${field}.${dep} is '${range}', expected exactly ${top.version}`);
      }
    }
    if (typeof json.description !== 'string' || json.description.length < 10) out.push(`${at}: description is missing`);
    if (json.license !== top.license) out.push(`${at}: license is '${json.license}', the root says '${top.license}'`);
    const lic = join(root, 'packages', dir, 'LICENSE');
    if (!existsSync(lic) || readFileSync(lic, 'utf8') !== license)
      out.push(`packages/${dir}/LICENSE: missing or not the root LICENSE (cp LICENSE packages/${dir}/)`);
    const repository = { type: 'git', url: top.repository?.url, directory: `packages/${dir}` };
    if (!isDeepStrictEqual(json.repository, repository)) out.push(`${at}: repository should be ${JSON.stringify(repository)}`);
    if (!isDeepStrictEqual(json.engines, top.engines)) out.push(`${at}: engines should be ${JSON.stringify(top.engines)} (the root's)`);
    const missing = PACKAGE_FILES.filter((f) => !(json.files ?? []).includes(f));
    if (missing.length > 0) out.push(`${at}: files lacks ${missing.map((f) => `'${f}'`).join(', ')}`);
    if (json.scripts?.prepack !== 'tsc -b') out.push(`${at}: scripts.prepack should be 'tsc -b' (npm pack ships dist/, so it builds first)`);
  }
  return out;
}

/** Sets `version` on the root, every package and every @lth/* dependency range. */
export function setVersion(root, version) {
  const top = readJson(join(root, 'package.json'));
  top.version = version;
  writeJson(join(root, 'package.json'), top);
  for (const { file, json } of workspacePackages(root)) {
    json.version = version;
    for (const field of DEP_FIELDS) for (const dep of Object.keys(json[field] ?? {})) if (dep.startsWith('@lth/')) json[field][dep] = version;
    writeJson(file, json);
  }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const root = resolve(new URL('..', import.meta.url).pathname);
  const arg = process.argv[2];
  if (arg && arg !== '--check') {
    if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(arg)) {
      console.error(`tools/version.mjs: '${arg}' is not a version (x.y.z)`);
      process.exit(2);
    }
    setVersion(root, arg);
    // The lockfile records each workspace's version; npm ci refuses a lockfile out of step.
    execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], { cwd: root, stdio: 'inherit' });
    console.log(`Set version ${arg} on the root and ${workspacePackages(root).length} packages (and package-lock.json).`);
  }
  const found = problems(root);
  if (found.length > 0) {
    console.error(`Package versions/publish fields: ${found.length} problem(s):\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
  const { version } = readJson(join(root, 'package.json'));
  console.log(`Package versions ok: ${workspacePackages(root).length} packages at ${version}, publish fields in step.`);
}
