"""The webhook providers, by the name used in `/webhooks/{name}/…` URLs. No discovery magic."""

from receiver.providers import discord, slack, telegram, twilio, whapi
from receiver.providers.base import WebhookProvider

PROVIDERS: dict[str, WebhookProvider] = {
    "slack": slack,
    "discord": discord,
    "telegram": telegram,
    "whapi": whapi,
    "twilio": twilio,
}

# Providers with several webhook URLs per channel: `/webhooks/{name}/{channel_id}/{kind}`.
URL_KINDS: dict[str, tuple[str, ...]] = {
    "discord": ("events", "interactions"),
}
