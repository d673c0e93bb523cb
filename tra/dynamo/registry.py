"""The models stored in the TRA table, recorded as their classes are defined.

Like Django's app registry gathers ORM models for `migrate`, this gathers every
subclass of `tra.dynamo.models.TableModel`; the table definition
(`tra.dynamo.schema`) and the shared connection (`tra.dynamo.connection`) read
it. It imports no model module, so every module of the package can use it.
"""

from pynamodb.models import Model

_models: list[type[Model]] = []


def register(model: type[Model]) -> None:
    _models.append(model)


def all_models() -> list[type[Model]]:
    """Every subclass of the base model, abstract ones included (their Meta follows settings too)."""
    return list(_models)


def registered_models() -> list[type[Model]]:
    """Every concrete model on the table (those with a discriminator value)."""
    return [model for model in _models if model._get_discriminator_attribute() and _has_value(model)]


def _has_value(model: type[Model]) -> bool:
    return model._get_discriminator_attribute().get_discriminator(model) is not None
