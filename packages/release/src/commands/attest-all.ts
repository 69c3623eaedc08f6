/**
 * `pnpm release attest-all --version V [--collection C] [--registry REF] [signer flags] [--json]`
 * Provenance, signing, attestation and verification for every image the
 * matrix jobs left in .release/<V>/: the isolated job that holds id-token.
 */
import { forEachBounded, toJson } from '@nixrel/core';
import type { Command } from '../cli-context.js';
import { attestAndVerify, holdingState } from '../cut-release.js';
import { prepareRelease, withVersion } from '../release-context.js';
import { releaseSigner } from '../signer.js';
import { parseStepArgs, releaseOptions } from './release-args.js';

export const USAGE = 'usage: pnpm release attest-all --version V [--collection C] [--registry REF] [signer flags] [--json]';

export const run: Command = async (args, ctx) => {
  const values = parseStepArgs(args, USAGE);
  const opts = releaseOptions(values, ctx);
  try {
    const c = withVersion(await prepareRelease(opts), opts.version!);
    const records = await holdingState(c, async () => {
      const found = await c.state.readRecords(c.specs.map((s) => s.name));
      const signer = await releaseSigner(c);
      await forEachBounded(found, opts.concurrency ?? 2, (record) => attestAndVerify(c, record, signer), 'images');
      return found;
    });
    if (values.json) ctx.out(toJson(records.map((r) => ({ name: r.name, digest: r.digest, attestations: r.attestations, verification: r.verification }))));
    else for (const r of records) ctx.out(`${r.name}: ${r.attestations.length} attestations, verified ${r.verification?.ok ? 'ok' : 'FAILED'}`);
  } finally {
    opts.progress.close();
  }
};
