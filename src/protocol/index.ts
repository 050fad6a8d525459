/** The wire format, written once for the server and the SDK. Imports nothing but zod. */
export * from "./errors";
export * from "./ids";
export * from "./messages";
export * from "./media";
export * from "./http";
export * from "./frames";
export * from "./inbox";
export * from "./objects";
export * from "./push-answers";
