// A stand-in render host for the isolated renderer's tests: it speaks the real protocol
// (shared/adapters/preview/render-host-protocol.ts) and plays the ways memory goes wrong.
// - image/png: the first file a process draws is fine, every later one is "over the ceiling"
//   (memory an earlier file left behind);
// - application/pdf: over the ceiling always, as a real Flate bomb is;
// - image/gif: drawn, and the process keeps the MiB given in `width` (a warm heap);
// - image/webp: the process takes the MiB given in `width`, then calls the file corrupt (what
//   pdf.js says when an allocation is refused inside it).
let drawn = 0;
const held = [];
const hold = (mib) => held.push(Buffer.alloc(mib * 1024 * 1024, 1));
process.on('message', (request) => {
  drawn += 1;
  const png = new Uint8Array([drawn, ...new TextEncoder().encode(String(process.pid))]);
  const ok = { id: request.id, ok: true, png, width: 1, height: 1 };
  const fail = (reason, message) => ({ id: request.id, ok: false, reason, message });
  switch (request.mimeType) {
    case 'image/gif':
      hold(request.width);
      return process.send(ok);
    case 'image/webp':
      hold(request.width);
      return process.send(fail('corrupt', 'cannot be read'));
    case 'application/pdf':
      return process.send(fail('resource-limit', 'over the ceiling'));
    default:
      return process.send(drawn > 1 ? fail('resource-limit', `over the ceiling (file ${drawn} here)`) : ok);
  }
});
