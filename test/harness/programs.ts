/**
 * Programs the suites give a scripted coder to run, for what a run's
 * watchers see: output that arrives while the program still runs, and images
 * it writes.
 */

/** Prints a line to stdout and one to stderr, sleeps 2 s, then prints a last line. */
export const SLOW_PRINT_CODE =
  "import sys, time\n" +
  "print('first output', flush=True)\n" +
  "print('a warning', file=sys.stderr, flush=True)\n" +
  "time.sleep(2)\n" +
  "print('second output', flush=True)\n";

/**
 * Writes `plot.png`: a matplotlib line chart when the image has matplotlib,
 * else a 64×48 gradient PNG built with the standard library (zlib and
 * struct), so the suites do not depend on the data image. It prints which.
 */
export const PLOT_CODE = `import struct, zlib
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
    ax.plot([1, 2, 3, 4], [1, 4, 9, 16], marker="o")
    ax.set_title("squares")
    fig.savefig("plot.png")
    print("plot.png made with matplotlib")
except ImportError:
    width, height = 64, 48
    rows = b"".join(b"\\x00" + bytes(v for x in range(width) for v in (x * 4, y * 5, 160)) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    open("plot.png", "wb").write(png)
    print("plot.png made with zlib")
`;

/**
 * Writes `chart.svg`, whose own script would retitle the page if it ever ran:
 * shown by <img>, it must not.
 */
export const SVG_CODE = `open("chart.svg", "w").write(
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60">'
    '<script>top.document.title = "owned by the svg"</script>'
    '<rect width="120" height="60" fill="#1f5fbf"/><circle cx="60" cy="30" r="20" fill="#fff"/></svg>'
)
print("chart.svg written")
`;

/** The first 8 bytes of every PNG file. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
