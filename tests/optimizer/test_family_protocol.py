"""The family registry: every family is one spec module, one model module and one registry line."""

from __future__ import annotations

import pkgutil
import types
from importlib import import_module

import pytest

import optimizer.families
import vpp.assets
from optimizer.families import FAMILIES, VIRTUAL_FAMILIES
from optimizer.families.protocol import check_model
from vpp.assets import ASSET_TYPES
from vpp.assets.registry import FAMILIES as ASSET_FAMILIES
from vpp.assets.registry import FAMILY_NAMES


def test_models_follow_the_one_registry_in_order() -> None:
    assert list(FAMILIES) == [*FAMILY_NAMES, *VIRTUAL_FAMILIES]
    assert list(ASSET_TYPES) == list(FAMILY_NAMES) == list(ASSET_FAMILIES)
    for name, family in ASSET_FAMILIES.items():
        assert family.spec.model_fields["type"].default == name
        assert all(key.family == name for key in family.state_keys)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_model_satisfies_the_protocol(name: str) -> None:
    module = FAMILIES[name]
    check_model(name, module)
    assert module.RESTART in ("any_period", "day_start", "never")
    assert hasattr(module, "two_way") == module.TWO_WAY
    assert bool(module.FORECAST_FIELDS) <= hasattr(module, "set_forecast")


def test_a_module_missing_part_of_the_protocol_is_named() -> None:
    module = types.ModuleType("optimizer.families.half")
    module.RESTART, module.FORECAST_FIELDS, module.DAY_VARYING = "any_period", (), None
    module.ORDERED_VARS, module.TWO_WAY = None, True
    module.prepare = module.build = module.extract = module.carry = lambda *a: None
    with pytest.raises(TypeError, match=r"family 'half' \(optimizer.families.half\) lacks restart, two_way"):
        check_model("half", module)


def test_importing_an_aggregate_registers_nothing() -> None:
    before = dict(FAMILIES)
    import optimizer.aggregation  # noqa: F401  (virtual families used to register themselves here)

    assert before == FAMILIES


def test_no_family_module_is_left_out_of_the_registry() -> None:
    # The registry links a family's two halves by module name (import_module, ARCHITECTURE.md "Asset
    # families"), which import-linter cannot follow: a half whose name is not registered would be
    # silently unused. Every module holding a FAMILY, or a model's prepare and build, is listed.
    def names(package: types.ModuleType, is_half) -> list[str]:
        found = []
        for info in pkgutil.iter_modules(package.__path__):
            if is_half(import_module(f"{package.__name__}.{info.name}")):
                found.append(info.name)
        return sorted(found)

    specs = names(vpp.assets, lambda m: hasattr(m, "FAMILY"))
    models = names(optimizer.families, lambda m: hasattr(m, "prepare") and hasattr(m, "build"))
    assert specs == sorted(FAMILY_NAMES)
    assert models == sorted([*FAMILY_NAMES, *VIRTUAL_FAMILIES])
