/**
 * `pnpm release push <artifact> <target> [--tag T]... [--format F] [--json]`
 * pushes one image artifact (docker-archive, .tar.gz, or streamLayeredImage
 * script) to a registry repository or an OCI layout (`oci:<dir>[:tag]`), and
 * prints its digest, media type, layers, bytes uploaded and blobs skipped.
 */
import { resolve } from 'node:path';
import { type ArtifactFormat, ReleaseError, toJson } from '@nixrel/core';
import { pushImage } from '@nixrel/oci';
import { type Command, parseCommandArgs } from '../cli-context.js';

export const USAGE = 'usage: pnpm release push <artifact> <target> [--tag T]... [--format docker-archive|docker-archive+gzip|docker-stream] [--insecure] [--json]';

const FLAGS = {
    tag: { type: 'string', multiple: true },
    format: { type: 'string' },
    insecure: { type: 'boolean' },
    json: { type: 'boolean' },
  } as const;
const FORMATS: ArtifactFormat[] = ['docker-archive', 'docker-archive+gzip', 'docker-stream'];

export const run: Command = async (args, ctx) => {
  const parsed = parseCommandArgs(args, FLAGS, USAGE, true);
  const { values, positionals } = parsed;
  if (positionals.length !== 2) throw new ReleaseError('USAGE', `expected <artifact> and <target>, got ${positionals.length} arguments\n${USAGE}`);
  const format = values.format as ArtifactFormat | undefined;
  if (format !== undefined && !FORMATS.includes(format)) throw new ReleaseError('USAGE', `unknown --format "${format}"; one of ${FORMATS.join(', ')}`);
  const [artifact, target] = positionals as [string, string];
  // Paths are relative to where the user ran pnpm, not the package directory.
  const base = ctx.env.INIT_CWD ?? process.cwd();
  const layoutTarget = target.startsWith('oci:') && !target.startsWith('oci:/') ? `oci:${resolve(base, target.slice(4))}` : target;

  let lastReport = 0;
  const result = await pushImage({ path: resolve(base, artifact), ...(format ? { format } : {}) }, layoutTarget, {
    tags: values.tag ?? [],
    logger: ctx.logger,
    env: ctx.env,
    ...(values.insecure ? { insecure: true } : {}),
    onProgress: (p) => {
      const now = Date.now();
      if (now - lastReport < 2000 && p.bytes < p.total) return;
      lastReport = now;
      ctx.logger.info(`  ${p.layer.slice(7, 19)} ${Math.round((100 * p.bytes) / Math.max(1, p.total))}% of ${p.total} bytes`);
    },
  });
  if (values.json) {
    ctx.out(toJson(result));
    return;
  }
  ctx.out(`${result.repository}@${result.digest}`);
  ctx.out(`media type:     ${result.mediaType}`);
  ctx.out(`config:         ${result.configDigest}`);
  ctx.out(`layers:         ${result.layers.length} (${result.layerEncoding}, ${result.layers.reduce((n, l) => n + l.size, 0)} bytes)`);
  for (const l of result.layers) ctx.out(`  ${l.digest}  ${l.size}`);
  ctx.out(`tags:           ${result.tags.join(', ') || '(none)'}`);
  ctx.out(`bytes uploaded: ${result.bytesUploaded}`);
  ctx.out(`blobs skipped:  ${result.blobsSkipped}`);
};

