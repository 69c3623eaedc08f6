/**
 * ClosureExport -> CycloneDX Bom. Every policy decision (what a component is,
 * its purl, licences, hashes) is made here or in the modules it calls, never
 * on the Nix side. The image is metadata.component; its runtime packages are
 * the components; store references are the dependency graph.
 */
import { createRequire } from 'node:module';
import { Enums, Models } from '@cyclonedx/cyclonedx-library';
import type { ClosureExport, DerivationInfo, ImageMetadata } from '@nixrel/core';
import { PackageURL } from 'packageurl-js';
import { licencesOf } from './licences.js';
import { resolveMirror } from './mirrors.js';
import { nixHashToHex, sha256Narinfo } from './nix-hash.js';
import { byCodeUnit, groupPackages, type Package } from './packages.js';
import { setPatches } from './pedigree.js';
import { derivePurl, gitHubSource } from './purl.js';
import { parseDrvName, storePathName } from './store-path.js';

export interface BomOptions {
  image?: { digest?: string; repositoryUrl?: string };
  timestamp: Date;
  toolVersion: string;
}

const require = createRequire(import.meta.url);
const CYCLONEDX_LIBRARY_VERSION = (require('@cyclonedx/cyclonedx-library/package.json') as { version: string }).version;

function listOf<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s;
}

/** Name and version: pname/version when the derivation has them, else Nix's split of the name. */
export function nameAndVersion(pkg: Package): { name: string; version?: string } {
  const d = pkg.derivation;
  if (d) {
    const parsed = parseDrvName(d.name);
    const version = nonEmpty(d.version) ?? parsed.version;
    return { name: nonEmpty(d.pname) ?? parsed.name, ...(version ? { version } : {}) };
  }
  const parsed = parseDrvName(storePathName(pkg.ref));
  return parsed.version ? parsed : { name: parsed.name };
}

function externalReferences(d: DerivationInfo): Models.ExternalReference[] {
  const refs: Models.ExternalReference[] = [];
  for (const url of listOf(d.meta.homepage)) refs.push(new Models.ExternalReference(url, Enums.ExternalReferenceType.Website));
  let srcHash: string | undefined;
  try {
    srcHash = d.src?.hash ? nixHashToHex(d.src.hash) : undefined;
  } catch {
    srcHash = undefined;
  }
  for (const url of d.src?.urls ?? []) {
    const hashes = new Models.HashDictionary(srcHash ? [[Enums.HashAlgorithm['SHA-256'], srcHash]] : []);
    refs.push(new Models.ExternalReference(resolveMirror(url), Enums.ExternalReferenceType.SourceDistribution, { hashes }));
  }
  // Same URL listed twice (homepage == source page) would be a duplicate entry.
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.type} ${r.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** nix:* properties (nixpkgs' CycloneDX taxonomy), one group per merged output. */
function nixProperties(pkg: Package): Models.Property[] {
  const props: Models.Property[] = [];
  const derivers = new Set<string>();
  for (const o of pkg.outputs) {
    props.push(new Models.Property('nix:store_path', o.path.path));
    props.push(new Models.Property('nix:narinfo:store_path', o.path.path));
    props.push(new Models.Property('nix:narinfo:nar_hash', sha256Narinfo(o.path.narHash)));
    props.push(new Models.Property('nix:narinfo:nar_size', String(o.path.narSize)));
    if (o.path.deriver) derivers.add(o.path.deriver);
  }
  const drvPath = pkg.derivation?.drvPath;
  if (drvPath) derivers.add(drvPath);
  for (const d of [...derivers].sort(byCodeUnit)) props.push(new Models.Property('nix:narinfo:deriver', d));
  return props;
}

function packageComponent(pkg: Package): Models.Component {
  const d = pkg.derivation;
  const { name, version } = nameAndVersion(pkg);
  const { purl } = derivePurl({ name, version, identifiers: d?.meta.identifiers, src: d?.src });
  const main = pkg.outputs[0]!.path;
  const component = new Models.Component(d ? Enums.ComponentType.Application : Enums.ComponentType.File, name, {
    bomRef: pkg.ref,
    version,
    purl,
    scope: Enums.ComponentScope.Required,
    description: nonEmpty(d?.meta.description),
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], nixHashToHex(main.narHash)]]),
    licenses: new Models.LicenseRepository(licencesOf(d?.meta.license)),
    externalReferences: new Models.ExternalReferenceRepository(d ? externalReferences(d) : []),
    properties: new Models.PropertyRepository(nixProperties(pkg)),
  });
  const cpe = d?.meta.identifiers?.cpe;
  if (cpe) {
    try {
      component.cpe = cpe;
    } catch {
      // not a well-formed CPE 2.2/2.3 string: the purl still identifies the component
    }
  }
  // The GitHub owner published the source: the only supplier the closure can vouch for.
  const github = gitHubSource(d?.src);
  if (github) {
    component.supplier = new Models.OrganizationalEntity({
      name: github.owner,
      url: new Set([`https://github.com/${github.owner}`]),
    });
  }
  if (d?.patches) setPatches(component, [...new Set(d.patches)]);
  return component;
}

function imagePurl(name: string, digest: string, repositoryUrl?: string): string {
  return new PackageURL('oci', undefined, name.split('/').pop()!.toLowerCase(), digest, repositoryUrl ? { repository_url: repositoryUrl } : undefined).toString();
}

function imageComponent(closure: ClosureExport, opts: BomOptions): Models.Component {
  const { name, version, metadata } = closure.image;
  const digest = opts.image?.digest;
  const purl = digest ? imagePurl(name, digest, opts.image?.repositoryUrl) : undefined;
  const refs: Models.ExternalReference[] = [];
  if (metadata.homepage) refs.push(new Models.ExternalReference(metadata.homepage, Enums.ExternalReferenceType.Website));
  if (metadata.source) refs.push(new Models.ExternalReference(metadata.source, Enums.ExternalReferenceType.VCS));
  const component = new Models.Component(Enums.ComponentType.Container, name, {
    bomRef: purl ?? `image:${name}`,
    version: nonEmpty(version),
    purl,
    description: nonEmpty(metadata.description) ?? nonEmpty(metadata.title),
    licenses: new Models.LicenseRepository(licencesOf(metadata.licenses)),
    externalReferences: new Models.ExternalReferenceRepository(refs),
  });
  const supplier = vendorEntity(metadata);
  if (supplier) component.supplier = supplier;
  return component;
}

function vendorEntity(metadata: ImageMetadata): Models.OrganizationalEntity | undefined {
  const vendor = nonEmpty(metadata.vendor);
  if (!vendor) return undefined;
  return new Models.OrganizationalEntity({ name: vendor, url: new Set(metadata.homepage ? [metadata.homepage] : []) });
}

function tools(toolVersion: string): Models.Tools {
  const ours = new Models.Component(Enums.ComponentType.Application, 'sbom', { group: '@nixrel', version: toolVersion });
  const library = new Models.Component(Enums.ComponentType.Library, 'cyclonedx-library', {
    group: '@cyclonedx',
    version: CYCLONEDX_LIBRARY_VERSION,
  });
  return new Models.Tools({ components: new Models.ComponentRepository([ours, library]) });
}

export function closureToBom(closure: ClosureExport, opts: BomOptions): Models.Bom {
  const graph = groupPackages(closure);
  const root = imageComponent(closure, opts);
  const components = graph.packages.map(packageComponent);
  const byRef = new Map(components.map((c) => [c.bomRef.value!, c]));
  graph.packages.forEach((pkg, i) => {
    for (const dep of pkg.dependsOn) components[i]!.dependencies.add(byRef.get(dep)!.bomRef);
  });
  for (const r of graph.roots) root.dependencies.add(byRef.get(r)!.bomRef);

  const vendor = nonEmpty(closure.image.metadata.vendor);
  const metadata = new Models.Metadata({
    timestamp: opts.timestamp,
    tools: tools(opts.toolVersion),
    component: root,
    authors: new Models.OrganizationalContactRepository(vendor ? [new Models.OrganizationalContact({ name: vendor })] : []),
  });
  const supplier = vendorEntity(closure.image.metadata);
  if (supplier) metadata.supplier = supplier;

  // No serial number here: serializeBom derives it from the serialised content.
  return new Models.Bom({ metadata, components: new Models.ComponentRepository(components) });
}
