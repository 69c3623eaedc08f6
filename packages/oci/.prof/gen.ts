import { writeDockerArchive } from '../../testkit/src/archives.js';
const MiB = 1 << 20;
const weights = Array.from({ length: 40 }, (_, i) => 1 / (i + 1));
const sum = weights.reduce((a, b) => a + b, 0);
const layers = weights.map((w) => ({ size: Math.max(64 * 1024, Math.round((w / sum) * 320 * MiB)) }));
await writeDockerArchive(process.argv[2]!, { layers, seed: `p-${Date.now()}` });
