/**
 * The layers of src/, checked by `npm run check:deps` (CI: .ci/run, after the
 * type check). Folders depend in one direction, from the bottom up:
 *
 *   protocol                 wire and cross-object contracts; imports nothing of ours
 *   kernel                   small shared pieces (buckets, tickets, codecs, config, clock)
 *   db, media, auth, ops     storage and services, independent of each other, except that
 *                            ops may use db (the readiness probe's query, src/db/probe.ts)
 *   room, user, push         the objects; room may use user and push, never the reverse
 *   http                     the Worker's HTTP edge
 *   worker.ts                the entry point; nothing imports it
 *
 * and beside them the SDK (client: protocol and the kernel's pure codecs and
 * clock only) and the web client (web: the SDK only). No module cycles anywhere.
 */
/** Folders of ours other than the ones named (a negative lookahead over src/). */
const outside = (...folders) => `^src/(?!(${folders.join("|")})/)`;

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "A cycle makes two modules one: neither can be read, tested or changed alone.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "protocol-imports-nothing-of-ours",
      comment: "The protocol is the bottom layer: the SDK, the web client and the server all stand on it.",
      severity: "error",
      from: { path: "^src/protocol/" },
      to: { path: outside("protocol") },
    },
    {
      name: "kernel-imports-only-protocol",
      severity: "error",
      from: { path: "^src/kernel/" },
      to: { path: outside("kernel", "protocol") },
    },
    {
      name: "db-media-auth-import-only-protocol-and-kernel",
      comment: "Storage and services do not know each other (ops, above them, may ask db).",
      severity: "error",
      from: { path: "^src/(db|media|auth)/" },
      to: { path: outside("protocol", "kernel", "$1") },
    },
    {
      name: "ops-imports-only-protocol-kernel-and-db",
      severity: "error",
      from: { path: "^src/ops/" },
      to: { path: outside("protocol", "kernel", "ops", "db") },
    },
    {
      name: "objects-import-no-edge-or-clients",
      comment: "The objects (room, user, push) sit below the HTTP edge and the entry point, and apart from the SDK and web client.",
      severity: "error",
      from: { path: "^src/(room|user|push)/" },
      to: { path: ["^src/(http|client|web)/", "^src/worker\\.ts$"] },
    },
    {
      name: "user-and-push-import-no-other-object",
      comment: "room uses user (leases, limits) and push (jobs); user and push never use room, nor each other.",
      severity: "error",
      from: { path: "^src/(user|push)/" },
      to: { path: "^src/(room|user|push)/", pathNot: "^src/$1/" },
    },
    {
      name: "http-imports-no-room-internals",
      comment: "The edge talks to a room over RPC: at most the Room class's type, never its modules.",
      severity: "error",
      from: { path: "^src/http/" },
      to: { path: "^src/room/", pathNot: "^src/room/room\\.ts$" },
    },
    {
      name: "http-imports-the-room-class-as-a-type-only",
      severity: "error",
      from: { path: "^src/http/" },
      to: { path: "^src/room/room\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "nothing-imports-the-entry-point",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/worker\\.ts$" },
      to: { path: "^src/worker\\.ts$" },
    },
    {
      name: "client-imports-only-protocol-and-pure-kernel",
      comment: "The SDK runs in browsers and Node: no configuration, tickets or other server-side kernel pieces.",
      severity: "error",
      from: { path: "^src/client/" },
      to: { path: "^src/", pathNot: ["^src/(client|protocol)/", "^src/kernel/(base64url|clock)\\.ts$"] },
    },
    {
      name: "web-imports-only-the-sdk",
      severity: "error",
      from: { path: "^src/web/" },
      to: { path: outside("web", "client") },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // `import type` counts: a type-only import still ties one layer to another.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
