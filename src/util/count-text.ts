/**
 * A count with en-US thousands separators (1,000,000), as `n.toLocaleString("en-US")` writes it, without Intl:
 * the first Intl number format of a process loads ICU's data (20–80 ms of a command's CPU), which `import`
 * otherwise paid for its one summary line. Anything but a safe integer is handed to toLocaleString.
 */
export function countText(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString("en-US");
  const digits = String(Math.abs(n));
  let out = digits.slice(0, digits.length % 3 || 3);
  for (let i = out.length; i < digits.length; i += 3) out += "," + digits.slice(i, i + 3);
  return n < 0 || Object.is(n, -0) ? "-" + out : out;
}
