import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..', '..');
const workflowsDir = join(repoRoot, '.github', 'workflows');
const validator = join(import.meta.dirname, '..', 'node_modules', '.bin', 'action-validator');
const workflows = readdirSync(workflowsDir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  uses?: string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on?: Record<string, unknown>;
  permissions?: unknown;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const read = (file: string): Workflow => parse(readFileSync(join(workflowsDir, file), 'utf8')) as Workflow;
const all = workflows.map((file) => ({ file, doc: read(file) }));
const jobsOf = () => all.flatMap(({ file, doc }) => Object.entries(doc.jobs).map(([name, job]) => ({ where: `${file} ${name}`, job })));
const stepsOf = () => jobsOf().flatMap(({ where, job }) => (job.steps ?? []).map((step, i) => ({ where: `${where} step ${i + 1}`, step, job })));
const action = (step: Step) => step.uses?.split('@')[0];
const needsOf = (job: Job) => (job.needs === undefined ? [] : [job.needs].flat());

/** Every `uses:` value in a parsed workflow (jobs and their steps). */
function usesOf(doc: { jobs?: Record<string, { uses?: string; steps?: { uses?: string }[] }> }): string[] {
  return Object.values(doc.jobs ?? {}).flatMap((job) => [job.uses, ...(job.steps ?? []).map((s) => s.uses)].filter((u): u is string => typeof u === 'string'));
}

/** Jobs holding id-token: write, directly or (a reusable workflow's jobs) through their caller. */
const idTokenJobs = () => jobsOf().filter(({ job }) => job.permissions?.['id-token'] === 'write');

describe('GitHub workflows', () => {
  it('exist', () => {
    expect(workflows).toEqual(expect.arrayContaining(['ci.yml', 'release.yml', 'attest.yml']));
  });

  it.each(workflows)('%s passes action-validator', async (file) => {
    const { stdout, stderr } = await run(validator, [join(workflowsDir, file)]).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`action-validator rejected ${file}:\n${e.stdout}\n${e.stderr}`);
    });
    expect(`${stdout}${stderr}`).not.toMatch(/error/i);
  });

  it.each(workflows)('%s pins every action by a full commit SHA', (file) => {
    const uses = usesOf(read(file));
    const unpinned = uses.filter((u) => !u.startsWith('./') && !/^[^@\s]+@[0-9a-f]{40}$/.test(u));
    expect(unpinned).toEqual([]);
  });

  it('recognises an unpinned action', () => {
    const doc = { jobs: { a: { steps: [{ uses: 'actions/checkout@v4' }, { uses: 'x/y@0123456789abcdef0123456789abcdef01234567' }] } } };
    const unpinned = usesOf(doc).filter((u) => !/^[^@\s]+@[0-9a-f]{40}$/.test(u));
    expect(unpinned).toEqual(['actions/checkout@v4']);
  });

  it('each action is pinned to one commit everywhere', () => {
    const pins = new Map<string, Set<string>>();
    for (const { step } of stepsOf()) {
      if (!step.uses || step.uses.startsWith('./')) continue;
      const [name, sha] = step.uses.split('@') as [string, string];
      pins.set(name, (pins.get(name) ?? new Set()).add(sha));
    }
    expect([...pins].filter(([, shas]) => shas.size > 1).map(([name]) => name)).toEqual([]);
  });
});

describe('setup order', () => {
  const packageManager = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string }).packageManager;

  it('package.json names pnpm, so setup-node v5 caches with pnpm unless told not to', () => {
    expect(packageManager).toMatch(/^pnpm@/);
  });

  it.each(jobsOf().filter(({ job }) => job.steps?.some((s) => /\bpnpm\b|\.ci\/run/.test(s.run ?? ''))).map((j) => [j.where, j.job] as const))(
    '%s: checkout, then pnpm/action-setup, then setup-node, before any step runs pnpm',
    (_where, job) => {
      const steps = job.steps!;
      const index = (pred: (s: Step) => boolean) => steps.findIndex(pred);
      const checkout = index((s) => action(s) === 'actions/checkout');
      const pnpm = index((s) => action(s) === 'pnpm/action-setup');
      const node = index((s) => action(s) === 'actions/setup-node');
      const firstRun = index((s) => /\bpnpm\b|\.ci\/run/.test(s.run ?? ''));
      expect(checkout).toBeGreaterThanOrEqual(0);
      // pnpm/action-setup reads packageManager from the checkout; setup-node then finds pnpm for its cache.
      expect(pnpm).toBeGreaterThan(checkout);
      expect(node).toBeGreaterThan(pnpm);
      expect(firstRun).toBeGreaterThan(node);
      // The version comes from package.json alone: the action refuses two versions.
      expect(steps[pnpm]!.with?.version).toBeUndefined();
    },
  );

  it('release jobs use no dependency cache; CI caches with pnpm', () => {
    for (const { where, step } of stepsOf().filter(({ step }) => action(step) === 'actions/setup-node')) {
      if (where.startsWith('ci.yml')) expect(step.with?.cache, where).toBe('pnpm');
      else expect(step.with?.['package-manager-cache'], where).toBe(false);
    }
  });
});

describe('Nix', () => {
  const installs = () => stepsOf().filter(({ step }) => action(step) === 'cachix/install-nix-action');

  it('one Nix version everywhere: the same action commit and the same install URL', () => {
    expect(installs().length).toBeGreaterThanOrEqual(5);
    expect(new Set(installs().map(({ step }) => step.uses)).size).toBe(1);
    const urls = new Set(installs().map(({ step }) => step.with?.install_url));
    expect([...urls]).toHaveLength(1);
    expect([...urls][0]).toMatch(/^https:\/\/releases\.nixos\.org\/nix\/nix-\d+\.\d+\.\d+\/install$/);
  });

  it('sandbox paths never list /bin (a symlink on ubuntu-24.04, where Nix mounts its own /bin/sh)', () => {
    const configs = installs().map(({ where, step }) => ({ where, config: String(step.with?.extra_nix_config ?? '') }));
    const withPaths = configs.filter((c) => /extra-sandbox-paths/.test(c.config));
    expect(withPaths.map((c) => c.where)).toEqual(expect.arrayContaining([expect.stringContaining('ci.yml test')]));
    for (const { where, config } of withPaths) {
      const entries = /extra-sandbox-paths\s*=\s*(.*)/.exec(config)![1]!.trim().split(/\s+/);
      expect(entries, where).not.toContain('/bin');
      expect(entries.filter((e) => e.startsWith('/bin=') || e.startsWith('/bin/')), where).toEqual([]);
      expect(entries, where).toContain('/usr');
    }
  });

  it('the reproduce job shares no store or cache with the build jobs', () => {
    const reproduce = read('release.yml').jobs.reproduce!;
    const steps = reproduce.steps!;
    expect(steps.some((s) => action(s) === 'cachix/install-nix-action')).toBe(true);
    expect(steps.filter((s) => /cache|cachix\/cachix-action|magic-nix-cache/.test(s.uses ?? '') && action(s) !== 'cachix/install-nix-action')).toEqual([]);
    expect(JSON.stringify(steps)).not.toMatch(/substituters|ssh-ng|copy --to|nix copy/);
  });
});

describe('permissions and credentials', () => {
  it.each(workflows)('%s declares top-level permissions (none to write)', (file) => {
    const doc = read(file);
    expect(doc.permissions).toBeDefined();
    expect(JSON.stringify(doc.permissions)).not.toMatch(/write/);
  });

  it('each job gets exactly the permissions it needs', () => {
    const perms = Object.fromEntries(jobsOf().map(({ where, job }) => [where, job.permissions]));
    expect(perms).toEqual({
      'attest.yml attest': { contents: 'read', packages: 'write', 'id-token': 'write' },
      'ci.yml test': { contents: 'read' },
      'ci.yml sbomify': { contents: 'read' },
      'release.yml gate': { actions: 'read' },
      'release.yml plan': { contents: 'read', packages: 'read' },
      'release.yml build': { contents: 'read', packages: 'write' },
      'release.yml attest': { contents: 'read', packages: 'write', 'id-token': 'write' },
      'release.yml collect': { contents: 'read', packages: 'write' },
      'release.yml reproduce': { contents: 'read' },
      'release.yml site': { contents: 'read', packages: 'read' },
      'release.yml publish': { contents: 'write' },
    });
  });

  it('id-token: write only in the attest workflow and the job that calls it', () => {
    expect(idTokenJobs().map((j) => j.where)).toEqual(['attest.yml attest', 'release.yml attest']);
    expect(read('release.yml').jobs.attest!.uses).toBe('./.github/workflows/attest.yml');
  });

  it('no checkout leaves a token in .git/config', () => {
    const checkouts = stepsOf().filter(({ step }) => action(step) === 'actions/checkout');
    expect(checkouts.length).toBeGreaterThan(5);
    for (const { where, step } of checkouts) expect(step.with?.['persist-credentials'], where).toBe(false);
  });

  it('the job that writes to the repository runs no dependency and no repository build', () => {
    const publish = read('release.yml').jobs.publish!;
    const runs = publish.steps!.map((s) => s.run ?? '').join('\n');
    expect(runs).not.toMatch(/\bpnpm\b|\bnpm\b|\bnode\b|\bnix\b/);
    expect(publish.steps!.map(action).filter(Boolean)).toEqual(['actions/checkout', 'actions/download-artifact']);
    // The token is in the environment of the pushing steps only.
    for (const step of publish.steps!) {
      const hasToken = JSON.stringify(step.env ?? {}).includes('secrets.GITHUB_TOKEN');
      expect(hasToken, step.name ?? step.uses).toBe(/scripts\/release\//.test(step.run ?? ''));
    }
  });

  it('where id-token is present, installs run no scripts and without the OIDC request variables', () => {
    for (const { where, job } of idTokenJobs().filter(({ job }) => job.steps)) {
      const installs = job.steps!.filter((s) => /\bpnpm (install|i)\b|\bnpm (install|ci|i)\b/.test(s.run ?? ''));
      expect(installs.length, where).toBeGreaterThan(0);
      for (const s of installs) {
        expect(s.run, where).toMatch(/--ignore-scripts/);
        expect(s.run, where).toMatch(/env -u ACTIONS_ID_TOKEN_REQUEST_URL -u ACTIONS_ID_TOKEN_REQUEST_TOKEN /);
        expect(JSON.stringify(s.env ?? {}), where).not.toMatch(/ACTIONS_ID_TOKEN/);
      }
    }
  });

  it('every release install skips install scripts', () => {
    for (const { where, step } of stepsOf().filter(({ where }) => !where.startsWith('ci.yml'))) {
      if (/pnpm install/.test(step.run ?? '')) expect(step.run, where).toMatch(/--ignore-scripts/);
    }
  });

  it('`env -u` really removes the OIDC request variables from the install', async () => {
    const install = read('attest.yml').jobs.attest!.steps!.find((s) => /pnpm install/.test(s.run ?? ''))!.run!;
    const probe = install.replace(/pnpm install.*$/, 'env');
    const { stdout } = await run('bash', ['-c', probe], { env: { PATH: process.env.PATH, ACTIONS_ID_TOKEN_REQUEST_URL: 'u', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' } });
    expect(stdout).not.toMatch(/ACTIONS_ID_TOKEN/);
    expect(stdout).toMatch(/^PATH=/m);
  });
});

describe('the release', () => {
  const release = read('release.yml');

  it('starts only after CI succeeded on a push, or by hand on a commit whose CI passed', () => {
    expect(Object.keys(release.on!).sort()).toEqual(['workflow_dispatch', 'workflow_run']);
    expect(release.on!.workflow_run).toEqual({ workflows: ['ci'], types: ['completed'], branches: ['main'] });
    expect(read('ci.yml').jobs && parse(readFileSync(join(workflowsDir, 'ci.yml'), 'utf8')).name).toBe('ci');
    const gate = release.jobs.gate!;
    expect(gate.if).toMatch(/github\.event\.workflow_run\.conclusion == 'success'/);
    expect(gate.if).toMatch(/github\.event\.workflow_run\.event == 'push'/);
    const check = gate.steps!.find((s) => s.id === 'gate')!.run!;
    expect(check).toMatch(/actions\/workflows\/ci\.yml\/runs\?head_sha=\$GITHUB_SHA&event=push&status=success/);
    expect(check).toMatch(/exit 1/);
  });

  it('every job depends on the gate', () => {
    const reaches = (name: string, seen = new Set<string>()): boolean =>
      name === 'gate' || needsOf(release.jobs[name]!).some((n) => !seen.has(n) && reaches(n, seen.add(n)));
    for (const name of Object.keys(release.jobs)) expect(reaches(name), name).toBe(true);
    expect(release.jobs.plan!.if).toBe("needs.gate.outputs.release == 'true'");
  });

  it('runs in order: build, attest, collect, reproduce on a fresh runner, then the page from its result, then publish', () => {
    expect(needsOf(release.jobs.attest!)).toEqual(expect.arrayContaining(['build']));
    expect(needsOf(release.jobs.collect!)).toEqual(expect.arrayContaining(['attest']));
    expect(needsOf(release.jobs.reproduce!)).toEqual(expect.arrayContaining(['collect']));
    expect(needsOf(release.jobs.site!)).toEqual(expect.arrayContaining(['reproduce']));
    expect(needsOf(release.jobs.publish!)).toEqual(expect.arrayContaining(['site']));
    const reproduce = release.jobs.reproduce!.steps!;
    expect(reproduce.find((s) => s.uses?.startsWith('actions/download-artifact'))!.with?.name).toBe('collected-state');
    const rebuild = reproduce.find((s) => /pnpm release reproduce/.test(s.run ?? ''))!.run!;
    expect(rebuild).toMatch(/--manifest "\.release\/\$VERSION\/release\.json"/);
    // A mismatch (exit 12) is published as "differs"; any other failure stops.
    expect(rebuild).toMatch(/"\$status" = 12/);
    expect(reproduce.at(-1)!.with?.name).toBe('reproduced-state');
    const site = release.jobs.site!.steps!;
    expect(site.find((s) => s.uses?.startsWith('actions/download-artifact'))!.with?.name).toBe('reproduced-state');
  });

  it('renders the page from the reproduced release.json, packs the audit files beside it, regenerates the index', () => {
    const script = release.jobs.site!.steps!.find((s) => /pnpm page index/.test(s.run ?? ''))!.run!;
    const lines = script.split('\n').map((l) => l.trim());
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const render = at(/^pnpm page --manifest "\.release\/\$VERSION\/release\.json" --out "published\/\$page" --strict \\$/);
    // The page verifies against a policy the workflow pins: attest.yml of this repository, GitHub's issuer.
    expect(lines[render + 1]).toBe('--certificate-identity "$SIGNER_IDENTITY" --certificate-oidc-issuer "$SIGNER_ISSUER"');
    const { env } = release.jobs.site!;
    expect(env?.SIGNER_IDENTITY).toBe('${{ github.server_url }}/${{ github.repository }}/.github/workflows/attest.yml@${{ github.ref }}');
    expect(env?.SIGNER_ISSUER).toBe('https://token.actions.githubusercontent.com');
    const pack = at(/^pnpm release pack --manifest "\.release\/\$VERSION\/release\.json" --out "published\/\$page"$/);
    const index = at(/^pnpm page index --site published$/);
    expect([render, pack, index].every((i) => i >= 0)).toBe(true);
    expect(render).toBeLessThan(index);
    expect(pack).toBeLessThan(index);
    expect(script).toMatch(/test -f "published\/\$page\/\$VERSION\.audit\.tar\.gz"/);
    expect(script).toMatch(/touch published\/\.nojekyll/);
    // The same pack becomes the GitHub release's asset.
    const asset = release.jobs.publish!.steps!.find((s) => /github-release\.sh/.test(s.run ?? ''))!.run!;
    expect(asset).toBe('scripts/release/github-release.sh "$VERSION" "published/$COLLECTION/$VERSION/$VERSION.audit.tar.gz"');
  });

  it('the registry is ghcr.io/<owner>/<repo> in lower case', async () => {
    const text = readFileSync(join(workflowsDir, 'release.yml'), 'utf8');
    expect(text).not.toMatch(/ghcr\.io\/\$\{\{\s*github\.repository\s*\}\}/);
    const gate = release.jobs.gate!.steps!.find((s) => s.id === 'gate')!.run!;
    const line = gate.split('\n').find((l) => l.includes('ghcr.io'))!;
    const dir = await mkdtemp(join(tmpdir(), 'gate-'));
    try {
      await run('bash', ['-c', line], { env: { GITHUB_REPOSITORY: 'WellMaintained/Packages', GITHUB_OUTPUT: join(dir, 'out') } });
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('registry=ghcr.io/wellmaintained/packages\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const fromGate = ['$', '{{ needs.gate.outputs.registry }}'].join('');
    for (const name of ['plan', 'build', 'collect']) expect(release.jobs[name]!.env?.REGISTRY).toBe(fromGate);
    expect((release.jobs.attest as { with?: Record<string, string> }).with?.registry).toBe(fromGate);
  });

  it('re-running a job never fails on its own earlier upload', () => {
    const uploads = stepsOf().filter(({ step }) => action(step) === 'actions/upload-artifact');
    expect(uploads.length).toBe(5);
    for (const { where, step } of uploads) expect(step.with?.overwrite, where).toBe(true);
  });

  it('tags and publishes through the idempotent scripts', () => {
    const runs = release.jobs.publish!.steps!.map((s) => s.run).filter(Boolean);
    expect(runs).toEqual([
      'scripts/release/tag.sh "$VERSION" "$GITHUB_SHA"',
      'scripts/release/publish-pages.sh published "Provenance page for $VERSION"',
      'scripts/release/github-release.sh "$VERSION" "published/$COLLECTION/$VERSION/$VERSION.audit.tar.gz"',
    ]);
    expect(readFileSync(join(workflowsDir, 'release.yml'), 'utf8')).not.toMatch(/git tag |git commit /);
  });
});

describe('CI', () => {
  const ci = read('ci.yml');

  it('runs the README commands, as .ci/run does', () => {
    expect(ci.jobs.test!.steps!.map((s) => s.run).filter(Boolean)).toEqual(['.ci/run']);
    expect(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')).toMatch(/bash scripts\/setup\.sh\npnpm lint\npnpm test\n/);
  });

  it('builds all seven sbomify images and SBOM inputs, dry-runs their release, and starts each', () => {
    const runs = ci.jobs.sbomify!.steps!.map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(expect.arrayContaining(['scripts/sbomify-build.sh', 'scripts/sbomify-serve.sh']));
    const build = readFileSync(join(repoRoot, 'scripts', 'sbomify-build.sh'), 'utf8');
    expect(build).toMatch(/nix flake check --print-build-logs --no-update-lock-file\n/);
    expect(build).toMatch(/pnpm release --collection sbomify --dry-run\n/);
    // A failing check names its image.
    expect(build).toMatch(/::error title=sbomify image \$image::/);
    const serve = readFileSync(join(repoRoot, 'scripts', 'sbomify-serve.sh'), 'utf8');
    const listed = /^IMAGES=\(([^)]*)\)/m.exec(serve)![1]!.trim().split(/\s+/).sort();
    const catalog = readdirSync(join(repoRoot, 'packages', 'images')).filter((d) => existsSync(join(repoRoot, 'packages', 'images', d, 'image.nix'))).sort();
    expect(listed).toEqual(catalog);
    expect(listed).toHaveLength(7);
    for (const probe of [/psql .*select/, /redis-cli ping/, /minio\/health\/live/, /health\/ready/, /sbomify-minio-init: buckets created/, /sbomify-app: answers HTTP/, /sbomify-caddy-dev: answers HTTP/]) {
      expect(serve).toMatch(probe);
    }
  });

  it('the shell scripts parse', async () => {
    const scripts = ['scripts/setup.sh', 'scripts/sbomify-build.sh', 'scripts/sbomify-serve.sh', 'scripts/test-loop.sh', 'scripts/release/tag.sh', 'scripts/release/publish-pages.sh', 'scripts/release/github-release.sh'];
    for (const s of scripts) await run('bash', ['-n', join(repoRoot, s)]);
  });
});

describe('release scripts against a real remote', () => {
  let dir: string;
  let clone: string;
  let remote: string;
  const git = async (args: string[], cwd = clone) => (await run('git', args, { cwd })).stdout.trim();
  const script = (name: string, args: string[]) =>
    run(join(repoRoot, 'scripts', 'release', name), args, { cwd: clone, env: { PATH: process.env.PATH, HOME: dir } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'release-scripts-'));
    remote = join(dir, 'origin.git');
    clone = join(dir, 'clone');
    await run('git', ['init', '-q', '--bare', remote]);
    await run('git', ['init', '-q', clone]);
    await git(['remote', 'add', 'origin', remote]);
    await writeFile(join(clone, 'README.md'), 'main\n');
    await git(['add', 'README.md']);
    for (const m of ['one', 'two']) await git(['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', m]);
    await git(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tag.sh: creates, keeps a tag on the same commit, stops on one elsewhere', async () => {
    const [head, parent] = [await git(['rev-parse', 'HEAD']), await git(['rev-parse', 'HEAD~1'])];
    const first = await script('tag.sh', ['v1', head]);
    expect(first.stdout).toBe(`tag v1: created on ${head}\n`);
    expect(await git(['ls-remote', 'origin', 'refs/tags/v1'])).toMatch(new RegExp(`^${head}\\s`));
    const again = await script('tag.sh', ['v1', head]);
    expect(again).toMatchObject({ code: 0, stdout: `tag v1: already on ${head}, kept\n` });
    const elsewhere = await script('tag.sh', ['v1', parent]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(`tag v1 already points at ${head}, not at the release commit ${parent}`);
    // An annotated tag is compared by the commit it points at.
    await git(['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'tag', '-a', '-m', 'annotated', 'v2', parent]);
    await git(['push', '-q', 'origin', 'refs/tags/v2']);
    expect((await script('tag.sh', ['v2', parent])).stdout).toBe(`tag v2: already on ${parent}, kept\n`);
    expect((await script('tag.sh', ['v1'])).code).toBe(2);
  });

  it('publish-pages.sh: creates gh-pages with .nojekyll, commits a change once, an unchanged site never', async () => {
    const site = join(dir, 'site');
    await mkdir(join(site, 'sbomify', 'v1'), { recursive: true });
    await writeFile(join(site, 'sbomify', 'v1', 'index.html'), '<p>v1</p>\n');
    await writeFile(join(site, 'sbomify', 'v1', 'provenance.md'), '# v1\n');
    expect((await script('publish-pages.sh', [site, 'Provenance page for v1'])).stdout).toMatch(/^gh-pages: published /);
    const files = async () => (await git(['ls-tree', '-r', '--name-only', 'gh-pages'], remote)).split('\n');
    expect(await files()).toEqual(['.nojekyll', 'sbomify/v1/index.html', 'sbomify/v1/provenance.md']);
    const head = await git(['rev-parse', 'gh-pages'], remote);

    const rerun = await script('publish-pages.sh', [site, 'Provenance page for v1']);
    expect(rerun).toMatchObject({ code: 0, stdout: 'gh-pages: unchanged, nothing committed\n' });
    expect(await git(['rev-parse', 'gh-pages'], remote)).toBe(head);

    // The next release adds its page; the first stays.
    await rm(join(site, 'sbomify', 'v1'), { recursive: true });
    await mkdir(join(site, 'sbomify', 'v2'), { recursive: true });
    await writeFile(join(site, 'sbomify', 'v2', 'index.html'), '<p>v2</p>\n');
    await script('publish-pages.sh', [site, 'Provenance page for v2']);
    expect(await files()).toEqual(['.nojekyll', 'sbomify/v1/index.html', 'sbomify/v1/provenance.md', 'sbomify/v2/index.html']);
    expect(await git(['log', '--format=%s', 'gh-pages'], remote)).toBe('Provenance page for v2\nProvenance page for v1');
    // No worktree left behind, no token or hook configured in the clone.
    expect(await git(['worktree', 'list'])).not.toMatch(/\n/);
    expect(await git(['config', '--list', '--local'])).not.toMatch(/extraheader|hooksPath/);
  });

  it('publish-pages.sh refuses an empty site', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const r = await script('publish-pages.sh', [empty, 'nothing']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${empty} is empty, nothing to publish`);
  });
});

describe('scripts/setup.sh', () => {
  let bin: string;
  const setup = (env: Record<string, string>) =>
    run('bash', [join(repoRoot, 'scripts', 'setup.sh'), '--plan'], { env: { PATH: bin, ...env } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const osRelease = async (id: string) => {
    const file = join(bin, `os-release-${id}`);
    await writeFile(file, `ID=${id}\n`);
    return file;
  };

  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'setup-bin-'));
    for (const tool of ['bash', 'dirname']) await symlink((await run('bash', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool));
  });
  afterAll(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  it('Debian without Nix: nix-bin and chromium from apt', async () => {
    const r = await setup({ OS_RELEASE_FILE: await osRelease('debian') });
    expect(r.stdout).toMatch(/^apt: .*\bnix-bin\b.*\bchromium\b/m);
    // The example images' shell: Debian's own package.
    expect(r.stdout).toMatch(/^apt: .*\bbusybox-static\b/m);
    expect(r.stdout).toContain('busybox: apt busybox-static');
  });

  it('with a Nix already installed, no second one', async () => {
    await writeFile(join(bin, 'nix'), '#!/bin/sh\n');
    await chmod(join(bin, 'nix'), 0o755);
    try {
      const r = await setup({ OS_RELEASE_FILE: await osRelease('debian') });
      expect(r.stdout).toMatch(/^apt: /m);
      expect(r.stdout).not.toMatch(/nix-bin/);
    } finally {
      await rm(join(bin, 'nix'));
    }
  });

  it('Ubuntu: never the chromium snap shim; Chrome when there is one, else exactly what to do', async () => {
    const ubuntu = await osRelease('ubuntu');
    const none = await setup({ OS_RELEASE_FILE: ubuntu });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Ubuntu's chromium is a snap .* CHROMIUM_PATH=\/usr\/bin\/google-chrome pnpm setup/s);
    const chrome = join(bin, 'chrome');
    await writeFile(chrome, '#!/bin/sh\n');
    await chmod(chrome, 0o755);
    const given = await setup({ OS_RELEASE_FILE: ubuntu, CHROMIUM_PATH: chrome });
    expect(given.stdout).toContain(`browser: ${chrome}`);
    expect(given.stdout).not.toMatch(/\bchromium\b/);
    // Ubuntu's busybox is another binary: Debian's .deb is fetched and checked by hash instead.
    expect(given.stdout).not.toMatch(/^apt: .*busybox/m);
    expect(given.stdout).toMatch(/^busybox: busybox-static_1\.35\.0-4\+deb12u1\+b1_amd64\.deb from deb\.debian\.org, sha256 3d3fdbe9/m);
    const wrong = await setup({ OS_RELEASE_FILE: ubuntu, CHROMIUM_PATH: join(bin, 'nope') });
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringContaining(`CHROMIUM_PATH=${join(bin, 'nope')} is not an executable`) });
  });
});
