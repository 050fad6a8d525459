import type { Identity } from "../auth/tokens";

export interface AppEnv {
  Bindings: Env;
  Variables: { identity: Identity };
}
