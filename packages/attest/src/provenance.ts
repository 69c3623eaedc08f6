/**
 * SLSA v1.0 provenance (https://slsa.dev/spec/v1.0/provenance) for one image.
 * Everything comes in through ProvenanceInput: the orchestrator asks Nix for
 * its version and system, reads flake.lock and the CI environment; this module
 * only arranges the facts. The meaning of every field is documented in
 * docs/slsa-build-type.md.
 */
import { ReleaseError, SLSA_PROVENANCE_V1 } from '@nixrel/core';
import { type FlakeLock, flakeLockDependencies, parseFlakeLock } from './flake-lock.js';
import { digestHex, type ImageSubject, makeStatement, type ResourceDescriptor, type Statement } from './statement.js';

/** The build type this project defines; a consumer reads docs/slsa-build-type.md to interpret the predicate. */
export const BUILD_TYPE = 'https://github.com/wellmaintained/packages/blob/main/docs/slsa-build-type.md#v1';
/** builder.id of a release cut outside CI: whoever ran it on their own machine; no isolation is claimed. */
export const LOCAL_BUILDER_ID = 'https://github.com/wellmaintained/packages/blob/main/docs/slsa-build-type.md#local-builder';

export interface GitHubActionsContext {
  serverUrl: string;
  /** `owner/repo`. */
  repository: string;
  /** `owner/repo/.github/workflows/release.yml@refs/heads/main` (GITHUB_WORKFLOW_REF). */
  workflowRef: string;
  /** `.github/workflows/release.yml`. */
  workflowPath: string;
  ref: string;
  sha: string;
  runId: string;
  runAttempt: string;
  eventName?: string;
  runnerEnvironment?: string;
  /** `<server>/<workflowRef>`: identifies the workflow that ran the job. */
  builderId: string;
  /** `<server>/<repo>/actions/runs/<id>/attempts/<attempt>`. */
  invocationId: string;
  runUrl: string;
}

const REQUIRED_GITHUB_ENV = [
  'GITHUB_SERVER_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_WORKFLOW_REF',
  'GITHUB_REF',
  'GITHUB_SHA',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_ATTEMPT',
] as const;

/** The GitHub Actions run this process is part of, or undefined outside GitHub Actions. */
export function githubActionsContext(env: Record<string, string | undefined>): GitHubActionsContext | undefined {
  if (env.GITHUB_ACTIONS !== 'true') return undefined;
  const missing = REQUIRED_GITHUB_ENV.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ReleaseError('INVALID_INPUT', `GITHUB_ACTIONS is set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`);
  }
  const serverUrl = env.GITHUB_SERVER_URL!.replace(/\/$/, '');
  const repository = env.GITHUB_REPOSITORY!;
  const workflowRef = env.GITHUB_WORKFLOW_REF!;
  const prefix = `${repository}/`;
  const at = workflowRef.lastIndexOf('@');
  if (!workflowRef.startsWith(prefix) || at < prefix.length) {
    throw new ReleaseError('INVALID_INPUT', `GITHUB_WORKFLOW_REF "${workflowRef}" is not <owner>/<repo>/<path>@<ref> of ${repository}`);
  }
  const runUrl = `${serverUrl}/${repository}/actions/runs/${env.GITHUB_RUN_ID}`;
  return {
    serverUrl,
    repository,
    workflowRef,
    workflowPath: workflowRef.slice(prefix.length, at),
    ref: env.GITHUB_REF!,
    sha: env.GITHUB_SHA!,
    runId: env.GITHUB_RUN_ID!,
    runAttempt: env.GITHUB_RUN_ATTEMPT!,
    ...(env.GITHUB_EVENT_NAME ? { eventName: env.GITHUB_EVENT_NAME } : {}),
    ...(env.RUNNER_ENVIRONMENT ? { runnerEnvironment: env.RUNNER_ENVIRONMENT } : {}),
    builderId: `${serverUrl}/${workflowRef}`,
    invocationId: `${runUrl}/attempts/${env.GITHUB_RUN_ATTEMPT}`,
    runUrl,
  };
}

/**
 * builder.id of a GitHub Actions run: the workflow that signs, which is the
 * identity in the certificate. Inside a reusable workflow that is the token's
 * `job_workflow_ref` (e.g. attest.yml), not GITHUB_WORKFLOW_REF (its caller,
 * release.yml), so provenance and certificate name the same builder.
 */
export function githubBuilderId(ci: GitHubActionsContext, signingToken?: { jobWorkflowRef?: string }): string {
  return signingToken?.jobWorkflowRef ? `${ci.serverUrl}/${signingToken.jobWorkflowRef}` : ci.builderId;
}

export interface ProvenanceInput {
  image: ImageSubject;
  /** Flake reference as built (e.g. `github:acme/images/<commit>` or `path:/src/examples`) and attribute. */
  flake: { ref: string; attribute: string };
  /** Source repository URL (e.g. `https://github.com/acme/images`), the ref built and its commit. */
  source: { repository: string; ref?: string; commit: string };
  collection: string;
  releaseVersion: string;
  nix: { version: string; system: string };
  /** flake.lock as text or parsed; its inputs become resolvedDependencies. */
  flakeLock?: string | FlakeLock;
  /** The image's CycloneDX SBOM, recorded as a byproduct. */
  sbom?: { digest: string; name?: string; uri?: string };
  /** The CI run (githubActionsContext(env)); absent for a local build. */
  ci?: GitHubActionsContext;
  startedOn?: Date | string;
  finishedOn?: Date | string;
  /** Overrides the builder id (otherwise the CI workflow or LOCAL_BUILDER_ID). */
  builderId?: string;
  /** Overrides the invocation id (otherwise the CI run attempt URL). */
  invocationId?: string;
}

export interface SlsaProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId?: string; startedOn?: string; finishedOn?: string };
    byproducts: ResourceDescriptor[];
  };
}

const toIso = (t: Date | string | undefined, what: string): string | undefined => {
  if (t === undefined) return undefined;
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) throw new ReleaseError('INVALID_INPUT', `${what} "${String(t)}" is not a valid time`);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
};

const GIT_COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function buildProvenance(input: ProvenanceInput): Statement<SlsaProvenancePredicate> {
  for (const [value, what] of [
    [input.flake?.ref, 'flake reference'],
    [input.flake?.attribute, 'flake attribute'],
    [input.source?.repository, 'source repository'],
    [input.collection, 'collection'],
    [input.releaseVersion, 'release version'],
    [input.nix?.version, 'Nix version'],
    [input.nix?.system, 'Nix system'],
  ] as const) {
    if (!value) throw new ReleaseError('INVALID_INPUT', `provenance input: ${what} is missing`);
  }
  if (!GIT_COMMIT.test(input.source.commit)) {
    throw new ReleaseError('INVALID_INPUT', `provenance input: source commit "${input.source.commit}" is not a full git commit hash`);
  }
  const ci = input.ci;
  const externalParameters: Record<string, unknown> = {
    flake: { ref: input.flake.ref, attribute: input.flake.attribute },
    source: {
      repository: input.source.repository,
      ...(input.source.ref ? { ref: input.source.ref } : {}),
      commit: input.source.commit,
    },
    collection: input.collection,
    releaseVersion: input.releaseVersion,
    ...(ci ? { workflow: { repository: `${ci.serverUrl}/${ci.repository}`, path: ci.workflowPath, ref: ci.ref } } : {}),
  };
  const internalParameters: Record<string, unknown> = {
    nixVersion: input.nix.version,
    system: input.nix.system,
    ...(ci?.runnerEnvironment ? { runnerEnvironment: ci.runnerEnvironment } : {}),
    ...(ci?.eventName ? { eventName: ci.eventName } : {}),
  };
  const sourceUri = `git+${input.source.repository}${input.source.ref ? `@${input.source.ref}` : ''}`;
  const lock = typeof input.flakeLock === 'string' ? parseFlakeLock(input.flakeLock) : input.flakeLock;
  const resolvedDependencies: ResourceDescriptor[] = [
    { name: 'source', uri: sourceUri, digest: { gitCommit: input.source.commit } },
    ...(lock ? flakeLockDependencies(lock) : []),
  ];
  const byproducts: ResourceDescriptor[] = input.sbom
    ? [
        {
          name: input.sbom.name ?? 'sbom.cdx.json',
          ...(input.sbom.uri ? { uri: input.sbom.uri } : {}),
          digest: { sha256: digestHex(input.sbom.digest, 'SBOM digest') },
          mediaType: 'application/vnd.cyclonedx+json',
        },
      ]
    : [];
  const invocationId = input.invocationId ?? ci?.invocationId;
  const startedOn = toIso(input.startedOn, 'startedOn');
  const finishedOn = toIso(input.finishedOn, 'finishedOn');
  return makeStatement(input.image, SLSA_PROVENANCE_V1, {
    buildDefinition: { buildType: BUILD_TYPE, externalParameters, internalParameters, resolvedDependencies },
    runDetails: {
      builder: { id: input.builderId ?? ci?.builderId ?? LOCAL_BUILDER_ID },
      metadata: {
        ...(invocationId ? { invocationId } : {}),
        ...(startedOn ? { startedOn } : {}),
        ...(finishedOn ? { finishedOn } : {}),
      },
      byproducts,
    },
  });
}
