/**
 * The contracts between pipeline stages. Each stage takes one of these and
 * returns another; all of them are plain JSON so a stage can run on another
 * machine and a re-run can skip what is already on disk.
 */

/** OCI labels and descriptive facts of an image, as its package declares them. */
export interface ImageMetadata {
  title: string;
  description: string;
  /** SPDX expression, or the licence name when it is not SPDX. */
  licenses?: string;
  vendor?: string;
  homepage?: string;
  source?: string;
}

/** One image of the catalog: a workspace package under packages/images or examples/images. */
export interface ImageSpec {
  /** OCI repository name component, e.g. `sbomify-app`. */
  name: string;
  collection: string;
  /** Flake the image is built from, relative to the repository root (`.` or `examples`). */
  flake: string;
  /** Attribute under the flake's `packages.<system>`, usually equal to `name`. */
  attribute: string;
  /** Workspace package directory, relative to the repository root. */
  packageDir: string;
  /** Workspace package name, e.g. `@images/postgres`. */
  packageName: string;
  metadata: ImageMetadata;
  /** The image lends the collection version its version (`"appVersion": true` in its package.json). */
  appVersion?: boolean;
}

/** How the image bytes produced by Nix are laid out. */
export type ArtifactFormat =
  | 'docker-archive' // dockerTools.buildLayeredImage output, uncompressed tar
  | 'docker-archive+gzip' // the same, gzipped (dockerTools' default .tar.gz)
  | 'docker-stream'; // dockerTools.streamLayeredImage: an executable that writes the tar to stdout

/** What Nix built for one image. */
export interface ImageArtifact {
  name: string;
  collection: string;
  /** Upstream version of the image's main package, from Nix metadata. */
  version: string;
  /** Installable that was built, e.g. `path:/repo/examples#packages.x86_64-linux.hello`. */
  installable: string;
  drvPath: string;
  /** Store path of the image artifact (tarball or stream script). */
  outPath: string;
  format: ArtifactFormat;
  /** Store path of the SBOM input JSON (see ClosureExport). */
  closurePath: string;
  metadata: ImageMetadata;
  system: string;
}

/**
 * The SBOM input exported by the Nix side for one image: its runtime closure
 * and metadata for every derivation in its dependency tree. Nix only dumps data;
 * every policy decision (purls, licences, merging) is made in packages/sbom.
 */
export interface ClosureExport {
  /** Format version of this document. */
  version: 1;
  image: {
    name: string;
    version: string;
    metadata: ImageMetadata;
    /** Store paths put into the image (the closure roots). */
    roots: string[];
  };
  /** Runtime closure of the roots, roots included. */
  paths: ClosurePath[];
  /** One entry per derivation in the dependency tree that Nix knows metadata for. */
  derivations: DerivationInfo[];
}

export interface ClosurePath {
  path: string;
  references: string[];
  /** `sha256:<nix base32>` or SRI `sha256-<base64>`, as Nix reports it. */
  narHash: string;
  narSize: number;
  deriver?: string;
  /** As `nix path-info --json` reports it: false for a path that is not built (the SBOM stage rejects it). */
  valid?: boolean;
}

export interface NixLicense {
  spdxId?: string;
  shortName?: string;
  fullName?: string;
  url?: string;
  free?: boolean;
}

export interface DerivationInfo {
  drvPath?: string;
  /** Derivation name, e.g. `hello-2.12.1`. */
  name: string;
  pname?: string;
  version?: string;
  /** Output name -> store path. */
  outputs: Record<string, string>;
  meta: {
    description?: string;
    homepage?: string | string[];
    /** As nixpkgs writes it: one licence or a list, each an attribute set or a plain name. */
    license?: NixLicense | string | (NixLicense | string)[];
    identifiers?: { cpe?: string; purl?: string; purls?: string[] };
    maintainers?: string[];
  };
  src?: { urls: string[]; hash?: string; rev?: string; owner?: string; repo?: string };
  patches?: string[];
}

/** A layer as it stands in the pushed manifest. */
export interface LayerRecord {
  digest: string;
  size: number;
  mediaType: string;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
}

/** Result of publishing one image (packages/oci). */
export interface PublishedImage {
  /** Where the image went: `<host>[:port]/<repo>` or `oci:<dir>`. */
  repository: string;
  /** Manifest digest; the image's identity from here on. */
  digest: string;
  mediaType: string;
  configDigest: string;
  layers: LayerRecord[];
  tags: string[];
  /** How layers are encoded; part of what makes the digest reproducible. */
  layerEncoding: 'uncompressed';
  bytesUploaded: number;
  blobsSkipped: number;
}

export interface SbomQuality {
  components: number;
  /** Shares in [0, 1]. */
  withLicense: number;
  withPurl: number;
  withHash: number;
  withSupplier: number;
  withVersion: number;
  /** NTIA minimum elements: which are present for every component. */
  ntia: { element: string; satisfied: boolean; detail?: string }[];
}

export interface SbomRecord {
  path: string;
  digest: string;
  specVersion: string;
  components: number;
  /** Licence expression or name -> number of components carrying it. */
  licences: Record<string, number>;
  quality: SbomQuality;
}

export interface ProvenanceRecord {
  path: string;
  digest: string;
  predicateType: string;
  buildType: string;
}

export type SignerMode = 'keyless' | 'key';

export interface AttestationRecord {
  predicateType: string;
  /** Bundle file, relative to the release directory. */
  bundlePath: string;
  bundleDigest: string;
  /** Digest of the referrer manifest attached to the image. */
  referrerDigest: string;
  signerMode: SignerMode;
  /** Certificate SAN for keyless; absent for key signing. */
  signerIdentity?: string;
  issuer?: string;
  /** `sha256:<hex>` of the DER (SPKI) public key, for key signing. */
  keyFingerprint?: string;
  rekorLogIndex?: number;
  rekorUrl?: string;
  /** Time the transparency log or TSA vouched for, ISO 8601. */
  signedAt?: string;
}

export interface VerificationPolicy {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  keyFingerprint?: string;
  predicateTypes: string[];
}

export interface VerificationRecord {
  ok: boolean;
  checkedAt: string;
  policy: VerificationPolicy;
  /** Predicate types that verified. */
  verified: string[];
  failures: string[];
}

export interface ReproducibilityRecord {
  checkedAt: string;
  rebuiltDigest: string;
  match: boolean;
  /** Layers whose digests differ, by index and both digests. */
  differingLayers: { index: number; expected: string; actual: string; storePath?: string }[];
}

export interface BuildFacts {
  installable: string;
  drvPath: string;
  closurePath: string;
  system: string;
  nixVersion: string;
  startedOn: string;
  finishedOn: string;
  /** The CI job that ran the build, when there was one. */
  runUrl?: string;
}

export type StageName = 'build' | 'publish' | 'sbom' | 'provenance' | 'attest' | 'verify' | 'reproduce';

/** One image's record; grows stage by stage and is persisted after each stage. */
export interface ImageRecord {
  name: string;
  collection: string;
  version: string;
  attribute: string;
  /** Flake the image is built from, relative to the repository root (ImageSpec.flake). */
  flake?: string;
  /** Directory of the image's definition (image.nix), relative to the repository root (ImageSpec.packageDir). */
  packageDir?: string;
  outPath?: string;
  format?: ArtifactFormat;
  metadata: ImageMetadata;
  /** Facts of the Nix build, kept for the provenance (which may be made on another machine). */
  build?: BuildFacts;
  repository?: string;
  digest?: string;
  mediaType?: string;
  configDigest?: string;
  tags: string[];
  layers: LayerRecord[];
  sbom?: SbomRecord;
  provenance?: ProvenanceRecord;
  attestations: AttestationRecord[];
  verification?: VerificationRecord;
  reproducibility?: ReproducibilityRecord;
  /** Finished stages and the hash of the inputs they ran on, so a re-run can skip them. */
  stages: Partial<Record<StageName, { finishedAt: string; inputHash: string }>>;
}

export interface SlsaAssessment {
  /** The Build level the evidence supports. */
  level: 0 | 1 | 2 | 3;
  reasons: string[];
}

/** release.json: everything the provenance page is rendered from. */
export interface ReleaseManifest {
  schemaVersion: 1;
  collection: string;
  version: string;
  /** ISO 8601 time the release was collected. */
  date: string;
  source: {
    repository: string;
    commit: string;
    tag?: string;
    /** Link to the repository's web view, when it has one. */
    url?: string;
  };
  builder: {
    id: string;
    runUrl?: string;
    workflow?: string;
  };
  signer: {
    mode: SignerMode;
    identity?: string;
    issuer?: string;
    keyFingerprint?: string;
    /** Path of the public key, relative to the manifest, for key-signed releases. */
    publicKeyPath?: string;
    rekorUrl?: string;
  };
  /** Where the images were pushed. */
  registry: string;
  slsa: SlsaAssessment;
  images: ImageRecord[];
  /** The release of the same collection this one follows, and the diff against it (a ReleaseDiff, relative to the manifest). */
  previous?: { version: string; diff?: { path: string; digest: string } };
}
