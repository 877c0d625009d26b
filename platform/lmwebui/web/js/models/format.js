// Sizes in decimal units, as the API's human_size writes them (253113024 -> "253.1 MB"), so
// a file's size reads the same in the resolve table, the progress line and the local list.
export function size(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  let value = n;
  for (const unit of ["B", "KB", "MB", "GB"]) {
    if (Math.abs(value) < 1000) return unit === "B" ? `${Math.trunc(value)} B` : `${value.toFixed(1)} ${unit}`;
    value /= 1000;
  }
  return `${value.toFixed(1)} TB`;
}

/** MiB counts (the compatibility estimate's unit) as a size. */
export const mib = (n) => size(n * 1024 ** 2);
