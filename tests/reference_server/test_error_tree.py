"""One error tree for the package, drawn in ``errors``' docstring; the seams re-export its
classes rather than defining their own."""

from __future__ import annotations

import pytest

import reference_server.errors as errors
from reference_server import config
from reference_server.controls import budgets, stores
from reference_server.controls import config as controls_config
from reference_server.providers import base as providers
from reference_server.upstream import faults

_CLASSES = [
    getattr(errors, name)
    for name in errors.__all__
    if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), Exception)
]


@pytest.mark.parametrize("cls", _CLASSES, ids=[c.__name__ for c in _CLASSES])
def test_error_tree_every_exception_is_drawn_and_rooted(cls: type[Exception]) -> None:
    assert issubclass(cls, errors.ReferenceServerError)
    assert f"── {cls.__name__} " in (errors.__doc__ or "") or cls is errors.ReferenceServerError


def test_error_tree_seams_reexport_the_one_class() -> None:
    assert providers.ProviderError is errors.ProviderError
    assert config.ConfigError is errors.ConfigError
    assert controls_config.ControlsConfigError is errors.ControlsConfigError
    assert issubclass(errors.ControlsConfigError, errors.ConfigError)
    assert stores.StoreUnavailableError is errors.StoreUnavailableError
    assert budgets.BudgetExceededError is errors.BudgetExceededError
    assert faults.FaultPlanError is errors.FaultPlanError


def test_render_error_gives_a_gateway_error_as_itself() -> None:
    refusal = errors.GatewayError(
        429, "slow down", type="requests", code="rate_limit_exceeded", headers={"retry-after": "2"}
    )
    status, body, headers = errors.render_error(refusal)
    assert (status, dict(headers)) == (429, {"retry-after": "2"})
    assert body == {
        "error": {
            "message": "slow down",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


def test_render_error_tells_the_client_nothing_of_an_unnamed_failure() -> None:
    status, body, headers = errors.render_error(ZeroDivisionError("secret detail"))
    assert (status, body["error"]["type"], dict(headers)) == (500, "server_error", {})
    assert "secret detail" not in body["error"]["message"]
