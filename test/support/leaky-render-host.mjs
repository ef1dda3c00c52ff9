// A stand-in render host for the isolated renderer's tests: it speaks the real protocol
// (shared/adapters/preview/render-host-protocol.ts) and plays a process whose memory an earlier
// file left behind: the first file it draws is fine, every later PNG is "over the ceiling".
// A PDF is over the ceiling always, as a real Flate bomb is.
let drawn = 0;
process.on('message', (request) => {
  drawn += 1;
  const overCeiling = request.mimeType === 'application/pdf' || drawn > 1;
  process.send(
    overCeiling
      ? {
          id: request.id,
          ok: false,
          reason: 'resource-limit',
          message: `over the ceiling (file ${drawn} here)`,
        }
      : {
          id: request.id,
          ok: true,
          png: new Uint8Array([drawn, ...new TextEncoder().encode(String(process.pid))]),
          width: 1,
          height: 1,
        },
  );
});
