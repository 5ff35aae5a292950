import { createRouter } from "../router";
import { registerAddMember } from "./add";
import { registerChangeMemberRole } from "./change-role";
import { registerListMembers } from "./list";
import { registerRemoveMember } from "./remove";

export function memberRoutes() {
  const app = createRouter();
  registerListMembers(app);
  registerAddMember(app);
  registerChangeMemberRole(app);
  registerRemoveMember(app);
  return app;
}
