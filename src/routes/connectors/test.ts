import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { connectorForPrincipal, testConnector } from "../../services/connectors";
import { MANAGERS } from "../../services/organizations";
import { auth, type Router } from "../router";
import { jsonResponse } from "../schemas";
import { ConnectorIdParam, ConnectorTestResult } from "./schema";

const route = createRoute({
  method: "post",
  path: "/connectors/{connectorId}/test",
  operationId: "testConnector",
  tags: ["Connectors"],
  summary: "Check a connector's credentials with its provider",
  description:
    "Owners and admins. A cheap authenticated read (SendGrid scopes, Mailchimp audience, SES account, Twilio account, MessageBird balance) or a test message (custom webhook, Slack, Teams). The outcome is kept on the connector as `last_test`.",
  ...auth.session(),
  request: { params: ConnectorIdParam },
  responses: {
    200: jsonResponse(ConnectorTestResult, "The provider accepted the credentials"),
    ...authErrorResponses,
    422: errorResponse("The provider refused (`integration_test_failed`); detail: `provider_status` and `provider_message`, never a secret"),
  },
});

export function registerTestConnector(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const connector = await connectorForPrincipal(db, principalOf(c), c.req.valid("param").connectorId, MANAGERS);
    return c.json(await testConnector(c.env, db, connector), 200);
  });
}
