import { startRegistry } from '@nixrel/testkit/registry';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { pushImage, computeImage, listReferrers, attachReferrer, resolveImage, listTags } from './src/index.ts';
import { execFileSync } from 'node:child_process';
import { createLogger } from '@nixrel/core';
const logger = createLogger({ level: 'debug' });
for (const auth of ['none', 'htpasswd', 'token'] as const) {
  const reg = await startRegistry({ auth });
  let authFile: string | undefined;
  if (reg.username) {
    authFile = `/tmp/ocit/auth-${auth}.json`;
    const fs = await import('node:fs');
    fs.writeFileSync(authFile, JSON.stringify({ auths: { [reg.url]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } } }));
  }
  try {
    await writeDockerArchive('/tmp/ocit/s.tar', { layers: [{ size: 1 << 20 }, { size: 2 << 20 }] });
    let t = Date.now();
    const r = await pushImage({ path: '/tmp/ocit/s.tar' }, `${reg.url}/test/app:v1`, { authFile, logger });
    console.log(auth, Date.now() - t, r.digest, r.bytesUploaded, r.blobsSkipped);
    const r2 = await pushImage({ path: '/tmp/ocit/s.tar' }, `${reg.url}/test/app:v1`, { authFile });
    console.log('again', r2.bytesUploaded, r2.blobsSkipped);
    const r3 = await pushImage({ path: '/tmp/ocit/s.tar' }, `${reg.url}/test/other:v1`, { authFile });
    console.log('other repo', r3.bytesUploaded, r3.blobsSkipped);
    const a = await attachReferrer(`${reg.url}/test/app@${r.digest}`, { artifactType: 'application/x-test', layerMediaType: 'application/json', data: new TextEncoder().encode('{"a":1}') }, { authFile });
    console.log(await listReferrers(`${reg.url}/test/app@${r.digest}`, { authFile }), a);
    console.log(await resolveImage(`${reg.url}/test/app:v1`, { authFile }), await listTags(`${reg.url}/test/app`, { authFile }));
    const creds = reg.username ? ['--creds', `${reg.username}:${reg.password}`] : [];
    const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${reg.url}/test/app:v1`]).toString();
    console.log(raw.length, (await import('node:crypto')).createHash('sha256').update(raw).digest('hex') === r.digest.slice(7));
    console.log(await reg.catalog());
  } finally { await reg.stop(); }
}
