"""Fulfillment's claim uploads spool to /tmp: the pod's /tmp is as large as the settings say.

The service refuses to start unless FULFILLMENT_UPLOAD_CONCURRENCY claim bodies of the largest
size fit FULFILLMENT_UPLOAD_SCRATCH_BYTES (its settings check that); this checks that the
emptyDir mounted on /tmp really is that large, in every build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import built, container, provided_env

pytestmark = pytest.mark.deploy

_UNITS = {"": 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "k": 1000, "M": 1000**2, "G": 1000**3}


def quantity(text: str) -> int:
    """A Kubernetes quantity ("128Mi", "1G", "1048576") in bytes."""
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|k|M|G)?", str(text))
    assert match, f"unexpected quantity {text!r}"
    return int(match.group(1)) * _UNITS[match.group(2) or ""]


@pytest.mark.parametrize("path", ["base", "overlays/dev", "overlays/prod"])
def test_fulfillments_tmp_holds_the_uploads_its_settings_allow(tools: Path, path: str) -> None:
    b = built(path)
    deployment = b.get("Deployment", "fulfillment")
    mounts = {m["name"]: m["mountPath"] for m in container(deployment).get("volumeMounts", [])}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    [tmp] = [volumes[name] for name, mount in mounts.items() if mount == "/tmp"]
    size = quantity(tmp["emptyDir"]["sizeLimit"])

    env = provided_env(b, deployment)
    scratch = int(env["FULFILLMENT_UPLOAD_SCRATCH_BYTES"]["value"])
    concurrency = int(env["FULFILLMENT_UPLOAD_CONCURRENCY"]["value"])
    photos = int(env["FULFILLMENT_CLAIM_PHOTO_MAX_COUNT"]["value"])
    photo = int(env["FULFILLMENT_CLAIM_PHOTO_MAX_BYTES"]["value"])

    assert scratch <= size, (
        f"{path}: FULFILLMENT_UPLOAD_SCRATCH_BYTES={scratch} but /tmp is {size} bytes"
    )
    assert concurrency * (photos * photo + 64 * 1024) <= size
