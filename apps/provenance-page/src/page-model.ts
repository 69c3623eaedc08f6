/**
 * release.json -> everything the templates show. All decisions live here
 * (what counts as signed, which link is safe, which command applies, why a
 * fact is missing); the templates only lay the result out. Nothing here is
 * invented: a fact the manifest does not carry becomes a missing fact with
 * the reason the manifest itself shows (which stage has not run, and so on).
 */
import { basename } from 'node:path';
import type { AttestationRecord, ImageRecord, ReleaseDiff, ReleaseManifest, VerificationReport } from '@nixrel/core';
import { COSIGN_SIGN_PREDICATE, CYCLONEDX_BOM, SLSA_PROVENANCE_V1 } from '@nixrel/core';
import { type ChangesView, changesView } from './changes.js';
import {
  COSIGN_TYPES,
  cosignVerify,
  cosignVerifyAttestation,
  GITHUB_ACTIONS_ISSUER,
  ghAttestationVerify,
  nixBuild,
  projectReproduce,
  projectVerifyManifest,
  projectVerifyReference,
  type SignerCheck,
  signerWorkflow,
  sourceFlakeRef,
} from './commands.js';
import { formatDate } from './dates.js';
import { type Fact, FactLedger, type MissingFact, text } from './facts.js';
import {
  githubRepoSlug,
  isLocalRepository,
  isPublicRekor,
  registryWebUrl,
  rekorEntryUrl,
  repoWeb,
  runLinkText,
  safeHttpUrl,
} from './links.js';
import { type SlsaView, slsaView } from './slsa.js';
import { type ImageCheckView, imageChecks, type ReleaseCheckView, releaseChecks } from './verification.js';

export interface PageCommand {
  id: string;
  label: string;
  text: string;
}

export interface Unavailable {
  label: string;
  reason: string;
}

export interface AttestationView {
  label: string;
  /** The transparency log entry, or why there is none. */
  log: Fact;
  bundle: Fact;
}

export interface SignatureView {
  status: 'signed' | 'unsigned';
  statusText: string;
  mode: string;
  identity?: Fact;
  issuer?: Fact;
  key?: Fact;
  attestations: AttestationView[];
}

export interface ImageView {
  name: string;
  anchor: string;
  title: string;
  description: string;
  version: string;
  licence: Fact;
  homepage?: Fact;
  reference?: string;
  digest: Fact;
  digestId: string;
  registry: Fact;
  tags: string[];
  builderId: string;
  runLink: Fact;
  commit: Fact;
  signature: SignatureView;
  sbom: { missing?: string; download?: Fact; digest?: string; format?: string; components?: number; licences?: string };
  provenance: { missing?: string; download?: Fact; digest?: string; buildType?: string };
  reproducibility: { status: 'match' | 'mismatch' | 'unchecked'; statusText: string; rebuiltDigest?: string; checkedAt?: string; checkedText?: string; differing: string[] };
  definition: Fact;
  outPath?: string;
  verifyCommands: PageCommand[];
  verifyUnavailable: Unavailable[];
  /** What the verifier found when the page was rendered. */
  verified: ImageCheckView;
  /** Why the image needs a reader's attention; its details start open when there is any. */
  problems: string[];
  /** The image's facts that are not recorded, shown as a short muted note. */
  unrecorded: string[];
}

export interface LinkItem {
  label: string;
  fact: Fact;
}

export interface SummaryView {
  images: number;
  signing: string;
  verification: ReleaseCheckView;
  reproduced: number;
  reproducedText: string;
  components: number;
  changes: { text: string; href?: string };
}

export interface PageModel {
  title: string;
  collection: string;
  version: string;
  date: string;
  dateText: string;
  repository: Fact;
  commit: Fact;
  tag: Fact;
  registry: string;
  signerText: string;
  signer: { mode: string; identity?: string; issuer?: string; key?: string };
  builder: Fact;
  run: Fact;
  summary: SummaryView;
  slsa: SlsaView;
  changes: ChangesView;
  reproducibility: { summary: string; command: PageCommand; nixCommands: PageCommand[]; nixUnavailable?: string };
  images: ImageView[];
  verification: { manifestCommand: PageCommand; notes: string[] };
  source: { links: LinkItem[]; definitions: LinkItem[]; note?: string };
  files: { manifest: Fact; schema: Fact; publicKey?: Fact; diff?: Fact };
  missing: MissingFact[];
  requiredMissing: number;
}

export interface ModelOptions {
  /** Href for one of the page's own files, from its path relative to the output directory. */
  fileHref: (path: string) => string;
  /** What a verifier found when the page was rendered; without it the page says "not verified when rendered". */
  verification?: VerificationReport;
  /** What changed since the previous release. */
  diff?: ReleaseDiff;
}

const PREDICATE_LABELS: Record<string, string> = {
  [SLSA_PROVENANCE_V1]: 'SLSA provenance',
  [CYCLONEDX_BOM]: 'CycloneDX SBOM',
  [COSIGN_SIGN_PREDICATE]: 'image signature',
};

export function predicateLabel(predicateType: string): string {
  return PREDICATE_LABELS[predicateType] ?? predicateType;
}

export function licenceSummary(licences: Record<string, number>, top = 4): string {
  const entries = Object.entries(licences).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0) return 'no licences recorded';
  const shown = entries.slice(0, top).map(([name, n]) => `${name} (${n})`);
  const more = entries.length - top;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

class CommandIds {
  private n = 0;
  next(label: string, text: string): PageCommand {
    this.n += 1;
    return { id: `cmd-${this.n}`, label, text };
  }
}

interface ReleaseContext {
  manifest: ReleaseManifest;
  ledger: FactLedger;
  ids: CommandIds;
  opts: ModelOptions;
  web: ReturnType<typeof repoWeb>;
  githubSlug: string | undefined;
}

function attestationFor(image: ImageRecord, predicateType: string): AttestationRecord | undefined {
  return image.attestations.find((a) => a.predicateType === predicateType);
}

// Commands are offered for what the release signed; whether it verifies is
// the verifier's finding (VerificationReport), never the release's own claim.
function signedFor(image: ImageRecord, predicateType: string): boolean {
  return !!attestationFor(image, predicateType);
}

function signatureView(ctx: ReleaseContext, image: ImageRecord): SignatureView {
  const { manifest, ledger } = ctx;
  const at = { image: image.name, required: true };
  const atts = image.attestations;
  const mode = manifest.signer.mode === 'key' ? 'key-signed (not keyless)' : 'Sigstore keyless';
  const view: SignatureView = { status: 'unsigned', statusText: 'not signed', mode, attestations: [] };

  if (atts.length === 0) {
    const reason = image.stages.attest ? 'not signed: the attestation stage recorded no attestations' : 'not signed: attestation stage has not run';
    ledger.miss('signature', reason, at);
    return view;
  }
  for (const [predicate, name] of [
    [SLSA_PROVENANCE_V1, 'provenance attestation'],
    [CYCLONEDX_BOM, 'SBOM attestation'],
  ] as const) {
    if (!attestationFor(image, predicate)) ledger.miss(name, `no ${predicateLabel(predicate)} attestation recorded`, at);
  }

  const first = atts[0]!;
  if (manifest.signer.mode === 'keyless') {
    const identity = first.signerIdentity ?? manifest.signer.identity;
    const issuer = first.issuer ?? manifest.signer.issuer;
    view.identity = identity ? text(identity) : ledger.miss('signer identity', 'keyless signature records no certificate identity', at);
    view.issuer = issuer ? text(issuer) : ledger.miss('signer issuer', 'keyless signature records no OIDC issuer', at);
  } else {
    const fp = first.keyFingerprint ?? manifest.signer.keyFingerprint;
    view.key = fp ? text(fp) : ledger.miss('key fingerprint', 'key-signed attestation records no key fingerprint', at);
  }

  for (const a of atts) {
    let log: Fact;
    if (a.rekorLogIndex !== undefined) {
      const href = rekorEntryUrl(a.rekorUrl ?? manifest.signer.rekorUrl, a.rekorLogIndex);
      log = href ? text(`Rekor entry ${a.rekorLogIndex}`, href) : text(`Rekor log index ${a.rekorLogIndex} (Rekor instance not recorded)`);
    } else {
      log = text(a.signerMode === 'key' ? 'no transparency log entry (key-signed without Rekor)' : 'no transparency log entry recorded');
    }
    view.attestations.push({ label: predicateLabel(a.predicateType), log, bundle: text(a.bundlePath, ctx.opts.fileHref(a.bundlePath)) });
  }

  view.status = 'signed';
  view.statusText = 'signed';
  return view;
}

/** How cosign and `pnpm verify` check this image's signatures, or why they cannot. */
function signerCheck(ctx: ReleaseContext, image: ImageRecord): { check?: SignerCheck; reason?: string } {
  const { signer } = ctx.manifest;
  const att = image.attestations[0];
  if (!att) return { reason: 'not signed' };
  const rekorUrl = att.rekorUrl ?? signer.rekorUrl;
  const trustedRoot = !!rekorUrl && !isPublicRekor(rekorUrl);
  if (signer.mode === 'keyless') {
    const identity = att.signerIdentity ?? signer.identity;
    const issuer = att.issuer ?? signer.issuer;
    if (!identity || !issuer) return { reason: 'the signer identity or issuer is not recorded' };
    return { check: { mode: 'keyless', identity, issuer, trustedRoot } };
  }
  if (!signer.publicKeyPath) return { reason: 'the public key is not published with this release' };
  const ignoreTlog = image.attestations.every((a) => a.rekorLogIndex === undefined);
  return { check: { mode: 'key', publicKey: basename(signer.publicKeyPath), ignoreTlog, trustedRoot: trustedRoot && !ignoreTlog } };
}

function verificationCommands(ctx: ReleaseContext, image: ImageRecord, reference: string | undefined): { commands: PageCommand[]; unavailable: Unavailable[] } {
  const commands: PageCommand[] = [];
  const unavailable: Unavailable[] = [];
  const { manifest, ids } = ctx;
  if (!reference || !image.repository) {
    unavailable.push({ label: 'cosign and pnpm verify', reason: 'the image has no published digest' });
    return { commands, unavailable };
  }
  const { check, reason } = signerCheck(ctx, image);
  if (!check) {
    unavailable.push({ label: 'signature checks', reason: reason ?? 'not signed' });
    return { commands, unavailable };
  }
  const localLayout = image.repository.startsWith('oci:');
  const notVerified = (p: string) => `no ${predicateLabel(p)} attestation recorded`;

  if (localLayout) {
    unavailable.push({ label: 'cosign', reason: `the image is in a local OCI layout (${image.repository}), not in a registry cosign can read` });
  } else {
    if (signedFor(image, COSIGN_SIGN_PREDICATE)) {
      commands.push(ids.next(`cosign verify (${image.name})`, cosignVerify(reference, check)));
    } else {
      unavailable.push({
        label: 'cosign verify',
        reason: 'no image signature (cosign sign) recorded: the release signs attestations only',
      });
    }
    for (const p of [SLSA_PROVENANCE_V1, CYCLONEDX_BOM]) {
      const type = COSIGN_TYPES[p]!;
      if (signedFor(image, p)) commands.push(ids.next(`cosign verify-attestation --type ${type} (${image.name})`, cosignVerifyAttestation(reference, type, check)));
      else unavailable.push({ label: `cosign verify-attestation --type ${type}`, reason: notVerified(p) });
    }
  }

  // gh verifies GitHub Actions keyless identities against the public Sigstore instance only.
  const att = image.attestations[0]!;
  const rekorUrl = att.rekorUrl ?? manifest.signer.rekorUrl;
  let ghReason: string | undefined;
  if (check.mode !== 'keyless') ghReason = 'it checks keyless GitHub Actions identities; this release is key-signed';
  else if (check.issuer !== GITHUB_ACTIONS_ISSUER) ghReason = `the signer issuer is ${check.issuer}, not GitHub Actions`;
  else if (rekorUrl && !isPublicRekor(rekorUrl)) ghReason = `signed against a private Sigstore instance (${rekorUrl}) that gh does not trust`;
  else if (isLocalRepository(image.repository)) ghReason = `the image is in a local registry (${image.repository})`;
  else if (!ctx.githubSlug) ghReason = 'the source repository is not on github.com';
  if (ghReason) {
    unavailable.push({ label: 'gh attestation verify', reason: ghReason });
  } else {
    const workflow = check.mode === 'keyless' ? signerWorkflow(check.identity) : undefined;
    for (const p of [SLSA_PROVENANCE_V1, CYCLONEDX_BOM]) {
      if (signedFor(image, p)) {
        commands.push(ids.next(`gh attestation verify, ${predicateLabel(p)} (${image.name})`, ghAttestationVerify(reference, ctx.githubSlug!, p, workflow)));
      }
    }
  }

  for (const p of [SLSA_PROVENANCE_V1, CYCLONEDX_BOM]) {
    const type = COSIGN_TYPES[p]!;
    if (signedFor(image, p)) commands.push(ids.next(`pnpm verify --type ${type} (${image.name})`, projectVerifyReference(reference, type, check)));
  }
  return { commands, unavailable };
}

function imageView(ctx: ReleaseContext, image: ImageRecord): ImageView {
  const { manifest, ledger, opts, web } = ctx;
  const at = (required: boolean) => ({ image: image.name, required });

  const reference = image.repository && image.digest ? `${image.repository}@${image.digest}` : undefined;
  const digest: Fact = image.digest
    ? text(image.digest)
    : ledger.miss('digest', image.stages.publish ? 'the publish stage recorded no digest' : 'not published: publish stage has not run', at(true));
  let registry: Fact;
  if (!image.repository) registry = { missing: 'not published' };
  else {
    const webUrl = registryWebUrl(image.repository, manifest.source.url);
    registry = webUrl ? text(`${image.repository} on ${webUrl.site}`, webUrl.href) : text(image.repository);
  }

  const runUrl = safeHttpUrl(manifest.builder.runUrl);
  const runLink: Fact = runUrl ? text(runLinkText(runUrl), runUrl) : { missing: 'no workflow run: built outside CI' };
  const commitHref = web?.commit(manifest.source.commit);
  const commit = text(`commit ${manifest.source.commit.slice(0, 12)}`, commitHref);

  const sbom: ImageView['sbom'] = {};
  if (image.sbom) {
    sbom.download = text(`SBOM for ${image.name} (CycloneDX ${image.sbom.specVersion} JSON)`, opts.fileHref(image.sbom.path));
    sbom.digest = image.sbom.digest;
    sbom.format = `CycloneDX ${image.sbom.specVersion}`;
    sbom.components = image.sbom.components;
    sbom.licences = licenceSummary(image.sbom.licences);
  } else {
    sbom.missing = ledger.miss('SBOM', image.stages.sbom ? 'the sbom stage recorded no SBOM' : 'no SBOM: sbom stage has not run', at(true)).missing!;
  }

  const provenance: ImageView['provenance'] = {};
  if (image.provenance) {
    provenance.download = text(`provenance for ${image.name} (in-toto statement JSON)`, opts.fileHref(image.provenance.path));
    provenance.digest = image.provenance.digest;
    provenance.buildType = image.provenance.buildType;
  } else {
    provenance.missing = ledger.miss(
      'provenance',
      image.stages.provenance ? 'the provenance stage recorded no provenance' : 'no provenance: provenance stage has not run',
      at(true),
    ).missing!;
  }

  const r = image.reproducibility;
  let reproducibility: ImageView['reproducibility'];
  if (!r) {
    const reason = 'not checked: release ran without --reproduce';
    ledger.miss('reproducibility', reason, at(false));
    reproducibility = { status: 'unchecked', statusText: reason, differing: [] };
  } else if (r.match) {
    reproducibility = {
      status: 'match',
      statusText: 'verified: the rebuilt digest matched',
      rebuiltDigest: r.rebuiltDigest,
      checkedAt: r.checkedAt,
      checkedText: formatDate(r.checkedAt),
      differing: [],
    };
  } else {
    reproducibility = {
      status: 'mismatch',
      statusText: 'not reproducible: the rebuilt digest differs',
      rebuiltDigest: r.rebuiltDigest,
      checkedAt: r.checkedAt,
      checkedText: formatDate(r.checkedAt),
      differing: r.differingLayers.map((l) => `layer ${l.index}${l.storePath ? ` (${l.storePath})` : ''}: expected ${l.expected}, rebuilt ${l.actual}`),
    };
  }

  let definition: Fact;
  if (!image.packageDir) definition = ledger.miss('image definition', 'release.json does not record where the image is defined', at(false));
  else if (!web) definition = text(image.packageDir);
  else definition = text(`definition of ${image.name} (${image.packageDir})`, web.tree(manifest.source.commit, image.packageDir));

  const homepage = safeHttpUrl(image.metadata.homepage);
  const view: ImageView = {
    name: image.name,
    anchor: `image-${image.name}`,
    title: image.metadata.title,
    description: image.metadata.description,
    version: image.version,
    licence: image.metadata.licenses ? text(image.metadata.licenses) : { missing: 'no licence label' },
    digest,
    digestId: `digest-${image.name}`,
    registry,
    tags: image.tags,
    builderId: manifest.builder.id,
    runLink,
    commit,
    signature: signatureView(ctx, image),
    sbom,
    provenance,
    reproducibility,
    definition,
    verifyCommands: [],
    verifyUnavailable: [],
    verified: imageChecks(ctx.opts.verification, image.name),
    problems: [],
    unrecorded: [],
  };
  if (image.metadata.homepage) view.homepage = homepage ? text(`${image.name} homepage`, homepage) : text(image.metadata.homepage);
  const missing = ledger.missing.filter((m) => m.image === image.name);
  view.unrecorded = missing.map((m) => m.fact);
  view.problems = [
    ...(view.verified.status === 'failed' ? [view.verified.statusText] : []),
    ...(reproducibility.status === 'mismatch' ? ['the rebuilt digest differs'] : []),
    ...missing.filter((m) => m.required).map((m) => `${m.fact} not recorded`),
  ];
  if (reference) view.reference = reference;
  if (image.outPath) view.outPath = image.outPath;
  const cmds = verificationCommands(ctx, image, reference);
  view.verifyCommands = cmds.commands;
  view.verifyUnavailable = cmds.unavailable;
  return view;
}

/** One `nix build` per flake, naming every image built from it (nix builds several installables at once). */
function nixCommands(ctx: ReleaseContext): { nixCommands: PageCommand[]; nixUnavailable?: string } {
  const { manifest } = ctx;
  const byRef = new Map<string, string[]>();
  for (const image of manifest.images) {
    if (image.flake === undefined) return { nixCommands: [], nixUnavailable: `release.json does not record which flake builds ${image.name}` };
    const ref = sourceFlakeRef(safeHttpUrl(manifest.source.url), ctx.githubSlug, manifest.source.commit, image.flake);
    if (!ref) {
      return { nixCommands: [], nixUnavailable: 'release.json records no fetchable URL for the source repository' };
    }
    byRef.set(ref, [...(byRef.get(ref) ?? []), image.attribute]);
  }
  return {
    nixCommands: [...byRef].map(([ref, attributes]) =>
      ctx.ids.next(byRef.size === 1 ? 'nix build (every image)' : `nix build (${ref})`, nixBuild(ref, attributes)),
    ),
  };
}

function sourceLinks(ctx: ReleaseContext): PageModel['source'] {
  const { manifest, web } = ctx;
  const { source } = manifest;
  const links: LinkItem[] = [];
  const definitions: LinkItem[] = [];
  const url = safeHttpUrl(source.url);
  links.push({ label: 'Repository', fact: text(source.repository, url) });
  if (!web) {
    const note = url
      ? `links into ${url} need a known web layout (GitHub or GitLab); its host is neither, so only the repository is linked`
      : `release.json records no web URL for ${source.repository}, so the tag, flake.nix and image definitions cannot be linked`;
    if (!url) ctx.ledger.miss('source links', note, { required: false });
    return { links, definitions, note };
  }
  links.push({ label: 'Commit', fact: text(source.commit, web.commit(source.commit)) });
  links.push({ label: 'Tag', fact: source.tag ? text(source.tag, web.tree(source.tag)) : { missing: 'the release has no tag' } });
  const flakes = new Set<string>(['.']);
  for (const image of manifest.images) if (image.flake) flakes.add(image.flake);
  for (const dir of [...flakes].sort()) {
    const prefix = dir === '.' ? '' : `${dir.replace(/\/+$/, '')}/`;
    links.push({ label: `${prefix}flake.nix`, fact: text(`${prefix}flake.nix at ${source.commit.slice(0, 12)}`, web.blob(source.commit, `${prefix}flake.nix`)) });
    links.push({ label: `${prefix}flake.lock`, fact: text(`${prefix}flake.lock at ${source.commit.slice(0, 12)}`, web.blob(source.commit, `${prefix}flake.lock`)) });
  }
  for (const image of manifest.images) {
    definitions.push({
      label: image.name,
      fact: image.packageDir ? text(`${image.packageDir}/image.nix`, web.blob(source.commit, `${image.packageDir}/image.nix`)) : { missing: 'release.json does not record where the image is defined' },
    });
  }
  return { links, definitions };
}

function signerFacts(manifest: ReleaseManifest): PageModel['signer'] {
  const { signer } = manifest;
  const facts: PageModel['signer'] = { mode: signer.mode === 'keyless' ? 'Sigstore keyless' : 'key-signed (not keyless)' };
  if (signer.identity) facts.identity = signer.identity;
  if (signer.issuer) facts.issuer = signer.issuer;
  if (signer.keyFingerprint) facts.key = signer.keyFingerprint;
  return facts;
}

export function buildPageModel(manifest: ReleaseManifest, opts: ModelOptions): PageModel {
  const ledger = new FactLedger();
  const web = repoWeb(manifest.source.url);
  const ctx: ReleaseContext = { manifest, ledger, ids: new CommandIds(), opts, web, githubSlug: githubRepoSlug(manifest.source.url) };
  const { source, builder, signer } = manifest;

  const sourceUrl = safeHttpUrl(source.url);
  const runUrl = safeHttpUrl(builder.runUrl);
  const run = runUrl ? text(runLinkText(runUrl), runUrl) : ledger.miss('workflow run', 'no workflow run: built outside CI', { required: false });
  if (signer.mode === 'key' && !signer.publicKeyPath) ledger.miss('public key', 'key-signed release without a published public key', { required: true });
  if (signer.mode === 'keyless' && (!signer.identity || !signer.issuer)) {
    ledger.miss('signer identity', 'keyless release records no signer identity or issuer', { required: true });
  }

  const manifestCommand = ctx.ids.next('pnpm verify --manifest release.json', projectVerifyManifest(signer.mode));
  const reproduceCommand = ctx.ids.next('pnpm release reproduce', projectReproduce());
  const images = manifest.images.map((image) => imageView(ctx, image));
  const nix = nixCommands(ctx);
  const matched = images.filter((i) => i.reproducibility.status === 'match').length;
  const differ = images.filter((i) => i.reproducibility.status === 'mismatch').length;
  const unchecked = images.length - matched - differ;

  const notes: string[] = [];
  if (signer.mode === 'keyless') {
    notes.push(
      isPublicRekor(signer.rekorUrl)
        ? 'pnpm verify checks keyless signatures against a Sigstore trusted root given as a file (trusted_root.json); the public instance publishes it through its TUF repository.'
        : `pnpm verify and cosign check keyless signatures against the trusted root (trusted_root.json) of the Sigstore instance that signed${signer.rekorUrl ? ` (${signer.rekorUrl})` : ''}; release.json does not include it.`,
    );
  }
  if (signer.mode === 'key') {
    notes.push('This release is key-signed (not keyless): signatures prove possession of the release key, not a CI identity. Download the public key before running the commands.');
  }
  const anyOci = manifest.images.some((i) => i.repository?.startsWith('oci:'));
  if (anyOci) notes.push('Images in a local OCI layout can only be checked with pnpm verify, from a checkout that holds the layout.');

  const signerText =
    signer.mode === 'keyless'
      ? `Sigstore keyless${signer.identity ? `, identity ${signer.identity}` : ''}${signer.issuer ? `, issuer ${signer.issuer}` : ''}`
      : `key-signed (not keyless)${signer.keyFingerprint ? `, key ${signer.keyFingerprint}` : ''}`;

  const files: PageModel['files'] = {
    manifest: text('release.json (the manifest this page is rendered from)', opts.fileHref('release.json')),
    schema: text('release manifest JSON Schema', opts.fileHref('release-manifest.schema.json')),
  };
  if (signer.publicKeyPath) files.publicKey = text(`public key ${basename(signer.publicKeyPath)}`, opts.fileHref(signer.publicKeyPath));
  if (manifest.previous?.diff) files.diff = text(`the full diff against ${manifest.previous.version} (JSON)`, opts.fileHref(manifest.previous.diff.path));

  const changes = changesView(manifest, opts.diff);
  const verification = releaseChecks(opts.verification, images);
  if (!verification.rendered) ledger.miss('verification', 'not verified when this page was rendered', { required: false });
  const summary: SummaryView = {
    images: images.length,
    signing: signer.mode === 'keyless' ? `Sigstore keyless${signer.identity ? ` by ${signerWorkflow(signer.identity) ?? signer.identity}` : ''}` : 'a local key (not keyless)',
    verification,
    reproduced: matched,
    reproducedText: `${matched} of ${images.length}${differ > 0 ? `, ${differ} differ` : ''}`,
    components: manifest.images.reduce((n, i) => n + (i.sbom?.components ?? 0), 0),
    changes: changes.available ? { text: changes.text, href: '#changes' } : { text: changes.text },
  };

  const model: PageModel = {
    title: `${manifest.collection} ${manifest.version}: release provenance`,
    collection: manifest.collection,
    version: manifest.version,
    date: manifest.date,
    dateText: formatDate(manifest.date),
    repository: text(source.repository, sourceUrl),
    commit: text(source.commit.slice(0, 12), web?.commit(source.commit)),
    tag: source.tag ? text(source.tag, web?.tree(source.tag)) : ledger.miss('tag', 'the release has no tag', { required: false }),
    registry: manifest.registry,
    signerText,
    signer: signerFacts(manifest),
    builder: text(builder.id),
    run,
    summary,
    slsa: slsaView(manifest),
    changes,
    reproducibility: {
      summary: `${matched} of ${images.length} images rebuilt to the same digest; ${differ} differ; ${unchecked} not checked.`,
      command: reproduceCommand,
      ...nix,
    },
    images,
    verification: { manifestCommand, notes },
    source: sourceLinks(ctx),
    files,
    missing: ledger.missing,
    requiredMissing: ledger.missing.filter((m) => m.required).length,
  };
  return model;
}
