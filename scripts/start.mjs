// `npm start`. Plain JavaScript so that an old Node gets a clear message
// instead of failing to parse TypeScript.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `edgeswarm needs Node.js 22.12 or newer; this is ${process.version}.\n` +
      "Install Node 22 (for example: npm i --prefix ~/.local/node22 node@22, then put ~/.local/node22/node_modules/node/bin first on PATH).",
  );
  process.exit(1);
}
await import("./start-stack.ts");
