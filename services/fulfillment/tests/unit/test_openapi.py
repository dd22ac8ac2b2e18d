"""Every HTTP field and parameter of fulfillment's API is described in its OpenAPI document."""

from typing import Any

import pytest
from fulfillment.app import create_app
from fulfillment.settings import FulfillmentSettings

pytestmark = pytest.mark.unit


def _undescribed_properties(schemas: dict[str, Any]) -> list[str]:
    missing = []
    for name, schema in schemas.items():
        if name.startswith(("HTTPValidationError", "ValidationError")):
            continue  # FastAPI's own, replaced by ErrorBody at run time
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{name}.{field}")
    return missing


def test_every_field_and_parameter_is_described() -> None:
    document = create_app(FulfillmentSettings()).openapi()
    missing = _undescribed_properties(document["components"]["schemas"])
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    missing.append(f"{method.upper()} {path} {parameter['name']}")
            if not operation.get("summary"):
                missing.append(f"{method.upper()} {path} (summary)")
    assert missing == []
