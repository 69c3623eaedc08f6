import { isReleaseError, type ImageRecord, ReleaseError, type ReproducibilityRecord } from '@nixrel/core';
import { runNix } from '@nixrel/nix';
import { computeImage } from '@nixrel/oci';

/**
 * An independent rebuild: Nix builds the image derivation again (`--rebuild`
 * compares the new output with the stored one bit for bit) and the digest is
 * recomputed from the rebuilt output without pushing. When the outputs differ,
 * `--keep-failed` keeps the rebuilt one as `<out>.check`, so the differing
 * layers can be named.
 */
export async function reproduceImage(
  record: ImageRecord,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; installable?: string },
): Promise<ReproducibilityRecord> {
  if (!record.build || !record.digest || !record.outPath) {
    throw new ReleaseError('INVALID_INPUT', `${record.name}: cannot reproduce an image that was not built and published`);
  }
  const checkedAt = new Date().toISOString();
  const installable = opts.installable ?? record.build.installable;
  let rebuiltPath = record.outPath;
  try {
    const { stdout } = await runNix(['build', '--json', '--no-link', installable], { ...opts, what: `nix build ${installable}` });
    const built = (JSON.parse(stdout) as { outputs: { out: string } }[])[0]?.outputs.out;
    if (built && built !== record.outPath) {
      // Another output path means other inputs: not the same build, nothing to compare bit for bit.
      rebuiltPath = built;
    } else {
      await runNix(['build', '--no-link', '--rebuild', '--keep-failed', installable], { ...opts, what: `nix build --rebuild ${installable}` });
    }
  } catch (e) {
    const text = isReleaseError(e) ? [e.message, ...e.details].join('\n') : String(e);
    const check = /differs from '([^']+\.check)'/.exec(text);
    if (!check?.[1]) throw e;
    rebuiltPath = check[1];
  }
  const image = await computeImage({ path: rebuiltPath, format: record.format });
  const actual = image.layers.map((l) => l.digest);
  const differingLayers: ReproducibilityRecord['differingLayers'] = [];
  for (let i = 0; i < Math.max(record.layers.length, actual.length); i++) {
    const expected = record.layers[i]?.digest ?? 'absent';
    const got = actual[i] ?? 'absent';
    if (expected !== got) differingLayers.push({ index: i, expected, actual: got });
  }
  return { checkedAt, rebuiltDigest: image.digest, match: image.digest === record.digest, differingLayers };
}
