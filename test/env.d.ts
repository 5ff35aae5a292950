import type { D1Migration } from "cloudflare:test";
import type { Bindings } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      TEST_MIGRATIONS: D1Migration[];
      TEST_CDNOW_SAMPLE: string;
    }
    // Types `exports` from cloudflare:workers as the Worker's own entry module.
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
