"""The webhook providers, by the name used in `/webhooks/{name}/…` URLs. No discovery magic."""

from receiver.providers import slack, telegram
from receiver.providers.base import WebhookProvider

PROVIDERS: dict[str, WebhookProvider] = {
    "slack": slack,
    "telegram": telegram,
}
