"""The HTTP API documents itself: every field, parameter and error answer is described."""

from typing import Any

import pytest
from accounts.app import create_app

pytestmark = pytest.mark.unit


def test_every_field_and_parameter_is_described() -> None:
    spec = create_app().openapi()  # opens no connection
    undescribed = []
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description") and not prop.get("$ref"):
                undescribed.append(f"{name}.{field}")
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    undescribed.append(f"{method.upper()} {path} {parameter['name']}")
    assert undescribed == []


def test_customer_routes_declare_the_bearer_scheme_and_their_errors() -> None:
    spec = create_app().openapi()
    operation: dict[str, Any] = spec["paths"]["/me/orders/{order_id}"]["get"]
    assert operation["security"] == [{"CustomerBearer": []}]
    assert {"401", "404", "422"} <= set(operation["responses"])
    assert spec["paths"]["/password-reset"]["post"]["responses"]["202"]
