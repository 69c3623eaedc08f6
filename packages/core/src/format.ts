/** 1536 -> `1.5 KiB`: byte counts as a reader compares them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 ? String(v) : v.toFixed(1);
  return `${n < 0 ? '-' : ''}${text} ${units[u]}`;
}
