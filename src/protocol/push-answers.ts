/** Answers of the Web Push routes (the VAPID key, registering and unregistering a subscription). */
import { z } from "zod";

/**
 * Answers of the push routes (src/http/routes/push.ts) that the SDK reads.
 * They were written inline in the routes; here both sides can share them.
 */
export const VapidPublicKey = z.object({ publicKey: z.string().nullable() });
export type VapidPublicKey = z.infer<typeof VapidPublicKey>;

export const PushRegistered = z.object({ registered: z.literal(true) });
export type PushRegistered = z.infer<typeof PushRegistered>;

export const PushUnregistered = z.object({ removed: z.boolean() });
export type PushUnregistered = z.infer<typeof PushUnregistered>;
