import { OtlpReceiver } from "../test/harness/otlp.ts";

// An OTLP receiver in a process of its own, for the tracing section: decoding
// spans in the bench's own process would slow the very runs it times. Prints
// `listening <endpoint>`, then `spans <total>` after each export it takes.

const receiver = await OtlpReceiver.start();
let said = 0;
setInterval(() => {
  if (receiver.spans.length === said) return;
  said = receiver.spans.length;
  process.stdout.write(`spans ${said}\n`);
}, 100).unref();
process.stdout.write(`listening ${receiver.endpoint}\n`);
process.once("SIGTERM", () => {
  process.stdout.write(`spans ${receiver.spans.length}\n`);
  void receiver.close().then(() => process.exit(0));
});
