"""Secrets by reference only: a setting names an environment variable or an AWS Secrets Manager ARN.

The value is fetched when needed and never logged; errors name the reference, never the value.
"""

from __future__ import annotations

import os


class SecretError(RuntimeError):
    pass


def resolve_secret(reference: str | None, *, what: str) -> str:
    """`arn:aws:secretsmanager:...` is read from Secrets Manager; anything else is an env var name."""
    if not reference:
        raise SecretError(f"no secret configured for {what}")
    if "<" in reference:
        raise SecretError(f"{what}: {reference} is still a placeholder (terraform output secret_arns)")
    if reference.startswith("arn:aws:secretsmanager:"):
        import boto3

        region = reference.split(":")[3]
        try:
            # A session of its own: boto3's default one keeps the credentials it resolved first, which need
            # not be the ones the environment holds now.
            client = boto3.session.Session(region_name=region).client("secretsmanager")
            return client.get_secret_value(SecretId=reference)["SecretString"]
        except Exception as exc:  # the message must not carry the value, only the reference
            raise SecretError(f"cannot read {what} from {reference}: {type(exc).__name__}") from None
    value = os.environ.get(reference)
    if value is None:
        raise SecretError(f"{what}: environment variable {reference} is not set")
    return value
