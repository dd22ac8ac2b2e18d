"""Print the Secrets the Kubernetes manifests reference, ready for `kubectl apply -f -`.

Nothing secret is in the repository: this writes the Secrets an overlay needs, with random
tokens and keys generated here and the outside credentials (Stripe, SMTP relay, backup bucket)
taken from the environment. The Secrets that operators write themselves are not printed:
CloudNativePG's <service>-db-app (database URLs), Strimzi's per-user Secrets (Kafka passwords)
and jg-kafka-cluster-ca-cert.

    uv run python tools/k8s_secrets.py --overlay dev --namespace japangoodz-dev | kubectl apply -f -
    STRIPE_API_KEY=sk_live_... STRIPE_WEBHOOK_SECRET=whsec_... SMTP_USERNAME=... \\
    SMTP_PASSWORD=... BACKUP_S3_ACCESS_KEY_ID=... BACKUP_S3_SECRET_ACCESS_KEY=... \\
      uv run python tools/k8s_secrets.py --overlay prod --namespace japangoodz > secrets.yaml

Run it once per namespace: a second run makes new tokens (rotation: docs/operations.md). The
output holds secrets: pipe it to kubectl, do not keep it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from collections.abc import Callable

# Secret name -> key -> how to get the value. "token": 32 random bytes (hex); "ec-key": a new
# P-256 private key (PEM); "env:NAME[:default]": from the environment (the default only for dev).
SPEC: dict[str, dict[str, str]] = {
    "checkout-secrets": {
        "storefront-token": "token",
        "operator-token": "token",  # tools; the console uses staff tokens
    },
    "payment-secrets": {
        "stripe-api-key": "env:STRIPE_API_KEY:sk_test_jgdevstack",
        "stripe-webhook-secret": "env:STRIPE_WEBHOOK_SECRET:token",
        "operator-token": "token",  # tools; the console uses staff tokens
    },
    "fulfillment-secrets": {"operator-token": "token", "storefront-token": "token"},
    "notifications-secrets": {
        "recipient-hash-key": "token",
        "smtp-username": "env:SMTP_USERNAME:",
        "smtp-password": "env:SMTP_PASSWORD:",
        "operator-token": "token",  # tools; the console uses staff tokens
    },
    "accounts-secrets": {"jwt-private-key": "ec-key", "operator-token": "token"},
    # Seals the links of account emails: accounts and notifications only (tests/deploy checks).
    "account-links": {"sealing-key": "token"},
    "internal-tokens": {"notifications-to-payment": "token"},
}
PROD_ONLY: dict[str, dict[str, str]] = {
    "pg-backup-s3": {
        "access-key-id": "env:BACKUP_S3_ACCESS_KEY_ID",
        "secret-access-key": "env:BACKUP_S3_SECRET_ACCESS_KEY",
    },
}


def _ec_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _value(how: str, overlay: str, token: Callable[[], str]) -> str | None:
    if how == "token":
        return token()
    if how == "ec-key":
        return _ec_key()
    _, name, *default = how.split(":", 2)
    if name in os.environ:
        return os.environ[name]
    if overlay == "prod" or not default:
        raise SystemExit(f"set {name} (the {overlay} overlay needs it)")
    if default[0] == "token":
        return token()
    return default[0] or None  # empty: leave the key out (an optional setting)


def manifests(overlay: str, namespace: str) -> list[dict[str, object]]:
    spec = dict(SPEC)
    if overlay == "prod":
        spec.update(PROD_ONLY)
        # Production has an SMTP relay that wants a login; dev's Mailpit takes none.
        spec["notifications-secrets"] = {
            **spec["notifications-secrets"],
            "smtp-username": "env:SMTP_USERNAME",
            "smtp-password": "env:SMTP_PASSWORD",
        }
    out: list[dict[str, object]] = []
    for name, keys in spec.items():
        data = {}
        for key, how in keys.items():
            value = _value(how, overlay, lambda: secrets.token_hex(32))
            if value is not None:
                data[key] = base64.b64encode(value.encode()).decode()
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/part-of": "japangoodz"},
                },
                "data": data,
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--overlay", choices=["dev", "prod"], required=True)
    parser.add_argument("--namespace", required=True)
    args = parser.parse_args()
    for document in manifests(args.overlay, args.namespace):
        print("---")
        print(json.dumps(document, indent=2))  # JSON is YAML: kubectl apply -f - reads it
    return 0


if __name__ == "__main__":
    sys.exit(main())
