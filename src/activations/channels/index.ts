import { amazonSes } from "./amazon-ses";
import type { Channel, ChannelType } from "./channel";
import { customWebhook } from "./custom-webhook";
import { mailchimp } from "./mailchimp";
import { messagebird } from "./messagebird";
import { sendgrid } from "./sendgrid";
import { slack } from "./slack";
import { teams } from "./teams";
import { twilio } from "./twilio";

export { channelTypes, ProviderError, type Channel, type ChannelType } from "./channel";

/** The seed's eight channels. */
export const channels: Record<ChannelType, Channel> = {
  custom_webhook: customWebhook,
  sendgrid,
  mailchimp,
  amazon_ses: amazonSes,
  twilio,
  messagebird,
  slack,
  teams,
};
