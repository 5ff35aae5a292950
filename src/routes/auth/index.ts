import { createRouter } from "../router";
import { registerGetSession } from "./get-session";
import { registerSetActiveOrganization } from "./set-active-organization";
import { registerSignIn } from "./sign-in";
import { registerSignOut } from "./sign-out";
import { registerSignUp } from "./sign-up";

export function authRoutes() {
  const app = createRouter();
  registerSignUp(app);
  registerSignIn(app);
  registerSignOut(app);
  registerGetSession(app);
  registerSetActiveOrganization(app);
  return app;
}
