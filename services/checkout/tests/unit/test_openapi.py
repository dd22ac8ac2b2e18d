"""The storefront's contract: every HTTP field and parameter is described in OpenAPI."""

import pytest
from checkout.app import create_app

pytestmark = pytest.mark.unit


def test_every_field_and_parameter_of_the_api_is_described() -> None:
    spec = create_app().openapi()  # builds the app without opening any connection
    undescribed = [
        f"{name}.{field}"
        for name, schema in spec["components"]["schemas"].items()
        if name not in {"HTTPValidationError", "ValidationError"}
        for field, prop in schema.get("properties", {}).items()
        if "description" not in prop
    ]
    undescribed += [
        f"{method.upper()} {path} {param['name']}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for param in operation.get("parameters", [])
        if "description" not in param
    ]
    assert undescribed == []
    assert {"/orders", "/orders/{order_id}", "/orders/{order_id}/cancel"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
